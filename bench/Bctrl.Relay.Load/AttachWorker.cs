using System.Diagnostics;
using System.Net.WebSockets;

namespace Bctrl.Relay.Load;

/// <summary>
/// One attach of a run: a closed loop of command and result (each command with a new id; the answer checked byte
/// for byte against the result expected for it), or a reader of the runtime's stream (checked for message size).
/// Counters are written by the loop alone and read by the runner between windows; each round trip's latency, from
/// before the send to the last byte of its answer, goes into <see cref="Latencies"/> while the runner's window is open.
/// </summary>
internal sealed class AttachWorker(ClientWebSocket socket, Scenario scenario)
{
    private const int ReceiveBufferBytes = 64 * 1024;
    private static readonly TimeSpan s_closeTimeout = TimeSpan.FromSeconds(10);

    private long _messages;
    private long _bytes;
    private int _stopping;
    private int _recording;
    private string? _error;

    public long Messages => Volatile.Read(ref _messages);

    /// <summary>Payload bytes answered whole, or received from the stream.</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    public string? Error => Volatile.Read(ref _error);

    public ClientWebSocket Socket => socket;

    /// <summary>Round trips answered while recording; read only after the loop has ended.</summary>
    public LatencyHistogram Latencies { get; } = new();

    /// <summary>Opens or closes the measured window for latencies: a round trip counts if it is answered inside it.</summary>
    public void Record(bool on) => Volatile.Write(ref _recording, on ? 1 : 0);

    /// <summary>Asks the loop to end after the message in hand; the socket stays open for <see cref="CloseAsync"/>.</summary>
    public void Stop() => Volatile.Write(ref _stopping, 1);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (scenario.Kind == ScenarioKind.Stream)
            {
                await ReadStreamAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await EchoAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception exception)
        {
            Fail(Describe(exception));
        }
    }

    /// <summary>The client's close handshake; the relay must pass the runtime's answering 1000 back unchanged.</summary>
    public async Task CloseAsync()
    {
        if (socket.State != WebSocketState.Open)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(s_closeTimeout);
        try
        {
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "load run done", timeout.Token).ConfigureAwait(false);
            if (socket.CloseStatus != WebSocketCloseStatus.NormalClosure)
            {
                Fail($"close answered with {(int?)socket.CloseStatus} {socket.CloseStatusDescription}");
            }
        }
        catch (Exception exception)
        {
            Fail("close: " + Describe(exception));
        }
    }

    private async Task EchoAsync(CancellationToken cancellationToken)
    {
        // This attach's own command and the result it expects; both get the next id before each send.
        var command = CdpPayload.Command(scenario.MessageBytes);
        var expected = CdpPayload.Result(scenario.MessageBytes);
        var buffer = new byte[Math.Min(ReceiveBufferBytes, Math.Max(4096, command.Length))];
        for (long id = 1; Volatile.Read(ref _stopping) == 0; id++)
        {
            CdpPayload.WriteId(command, id);
            CdpPayload.WriteId(expected, id);
            var sent = Stopwatch.GetTimestamp();
            await socket.SendAsync(command.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            var received = 0;
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    throw new InvalidDataException($"closed by the peer with {(int?)socket.CloseStatus} {socket.CloseStatusDescription}");
                }

                if (received + result.Count > expected.Length
                    || !buffer.AsSpan(0, result.Count).SequenceEqual(expected.AsSpan(received, result.Count)))
                {
                    throw new InvalidDataException($"the answer to command {id} differs from its expected result, at or after byte {received}");
                }

                received += result.Count;
                if (result.EndOfMessage)
                {
                    break;
                }
            }

            if (received != expected.Length)
            {
                throw new InvalidDataException($"the answer to command {id} has {received} bytes, its expected result {expected.Length}");
            }

            if (Volatile.Read(ref _recording) != 0)
            {
                Latencies.Record(Stopwatch.GetTimestamp() - sent);
            }

            Volatile.Write(ref _messages, _messages + 1);
            Volatile.Write(ref _bytes, _bytes + received);
        }
    }

    private async Task ReadStreamAsync(CancellationToken cancellationToken)
    {
        var request = CdpPayload.StreamRequest(scenario.MessageBytes);
        await socket.SendAsync(request.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        var buffer = new byte[ReceiveBufferBytes];
        var inMessage = 0;
        while (Volatile.Read(ref _stopping) == 0)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidDataException($"closed by the peer with {(int?)socket.CloseStatus} {socket.CloseStatusDescription}");
            }

            inMessage += result.Count;
            Volatile.Write(ref _bytes, _bytes + result.Count);
            if (result.EndOfMessage)
            {
                if (inMessage != scenario.MessageBytes)
                {
                    throw new InvalidDataException($"a streamed message has {inMessage} bytes, not {scenario.MessageBytes}");
                }

                inMessage = 0;
                Volatile.Write(ref _messages, _messages + 1);
            }
        }
    }

    private void Fail(string error) => Interlocked.CompareExchange(ref _error, error, null);

    private static string Describe(Exception exception) => exception switch
    {
        WebSocketException ws => $"WebSocketException ({ws.WebSocketErrorCode}): {ws.Message}",
        OperationCanceledException => "timed out (the run's time bound passed)",
        _ => $"{exception.GetType().Name}: {exception.Message}",
    };
}
