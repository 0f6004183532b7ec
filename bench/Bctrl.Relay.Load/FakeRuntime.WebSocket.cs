using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;

namespace Bctrl.Relay.Load;

internal sealed partial class FakeRuntime
{
    /// <summary>Answered messages are held whole, like Chromium answers; larger ones close the socket with 1009.</summary>
    private const int MaxMessageBytes = 64 * 1024 * 1024;

    private static readonly ConcurrentDictionary<int, byte[]> s_streamPayloads = new();

    /// <summary>
    /// Answers each message as one frame (Chromium sends whole messages as single frames), until the peer closes: a
    /// <see cref="CdpPayload.Command"/> with its <see cref="CdpPayload.Result"/>, turned in place, anything else echoed.
    /// A first message <c>STREAM &lt;bytes&gt;</c> turns the socket into a stream of events of that size instead.
    /// </summary>
    private static async Task ServeWebSocketAsync(WebSocket webSocket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var filled = 0;
        var first = true;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (buffer.Length >= MaxMessageBytes)
                {
                    await webSocket.CloseAsync(WebSocketCloseStatus.MessageTooBig, "too big", cancellationToken).ConfigureAwait(false);
                    return;
                }

                Array.Resize(ref buffer, buffer.Length * 2);
            }

            var result = await webSocket.ReceiveAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await webSocket.CloseOutputAsync(webSocket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, webSocket.CloseStatusDescription, cancellationToken)
                    .ConfigureAwait(false);
                return;
            }

            filled += result.Count;
            if (!result.EndOfMessage)
            {
                continue;
            }

            if (first && TryParseStreamRequest(buffer.AsSpan(0, filled), out var size))
            {
                await StreamAsync(webSocket, size, cancellationToken).ConfigureAwait(false);
                return;
            }

            first = false;

            // A command is answered with its result (same id, same size), as Chromium would; anything else is echoed.
            CdpPayload.TryAnswerInPlace(buffer.AsSpan(0, filled));
            await webSocket.SendAsync(buffer.AsMemory(0, filled), result.MessageType, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            filled = 0;
        }
    }

    /// <summary>Sends events of <paramref name="size"/> bytes back to back until the peer's close arrives, then answers it.</summary>
    private static async Task StreamAsync(WebSocket webSocket, int size, CancellationToken cancellationToken)
    {
        var payload = s_streamPayloads.GetOrAdd(size, CdpPayload.Event);
        var closed = 0;
        var receiver = ReceiveUntilCloseAsync();
        try
        {
            while (Volatile.Read(ref closed) == 0)
            {
                await webSocket.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // The peer is gone: end the receiver too, and observe it, before reporting the send's failure.
            webSocket.Abort();
            await receiver.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)
                .ConfigureAwait(false);
            throw;
        }

        await receiver.ConfigureAwait(false);
        await webSocket.CloseOutputAsync(webSocket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, webSocket.CloseStatusDescription, cancellationToken)
            .ConfigureAwait(false);

        async Task ReceiveUntilCloseAsync()
        {
            var sink = new byte[4096];
            try
            {
                while (true)
                {
                    var result = await webSocket.ReceiveAsync(sink.AsMemory(), cancellationToken).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }
                }
            }
            finally
            {
                Volatile.Write(ref closed, 1);
            }
        }
    }

    private static bool TryParseStreamRequest(ReadOnlySpan<byte> message, out int size)
    {
        size = 0;
        var prefix = CdpPayload.StreamRequestPrefix.Length;
        return message.Length > prefix && message.Length < 32
            && message[..prefix].SequenceEqual(Encoding.ASCII.GetBytes(CdpPayload.StreamRequestPrefix))
            && int.TryParse(Encoding.ASCII.GetString(message[prefix..]), NumberStyles.None, CultureInfo.InvariantCulture, out size)
            && size is >= 128 and <= MaxMessageBytes;
    }
}
