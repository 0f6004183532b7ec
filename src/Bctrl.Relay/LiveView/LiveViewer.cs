using System.Net.WebSockets;
using System.Threading.Channels;
using Bctrl.Relay.Metrics;

namespace Bctrl.Relay.LiveView;

/// <summary>
/// One viewer page's socket (docs/live-view.md). Frames reach it through a slot of one: a frame that arrives before the
/// viewer has taken the last replaces it (counted as dropped), so a viewer that falls behind gets the newest frame and
/// the relay holds at most one frame for it, never a queue. One pump sends (frames, then the close), one receives
/// (input, and the page's close); the first to end closes the other.
/// </summary>
internal sealed class LiveViewer
{
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(2);

    private readonly WebSocket _socket;
    private readonly LiveViewMetrics _metrics;
    private readonly Channel<LiveFrame> _slot;
    private readonly CancellationTokenSource _aborted = new();
    private WebSocketCloseStatus _closeStatus = WebSocketCloseStatus.NormalClosure;
    private string _closeReason = "viewer closed";
    private int _closing;

    public LiveViewer(WebSocket socket, Guid connectionId, bool interactive, LiveViewMetrics metrics)
    {
        _socket = socket;
        _metrics = metrics;
        ConnectionId = connectionId;
        Interactive = interactive;
        _slot = Channel.CreateBounded<LiveFrame>(
            new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
            _ => metrics.FrameDropped());
        _aborted.Token.UnsafeRegister(static state => ((WebSocket)state!).Abort(), socket);
    }

    public Guid ConnectionId { get; }

    public bool Interactive { get; }

    /// <summary>Offers the newest frame; it replaces one the viewer has not taken yet. Never waits.</summary>
    public void Offer(LiveFrame frame) => _slot.Writer.TryWrite(frame);

    /// <summary>
    /// Asks the viewer to close with this code (a lease terminated, the relay draining, the runtime gone); the send pump
    /// writes the close frame after whatever it is sending. The first reason wins.
    /// </summary>
    public void Close(WebSocketCloseStatus status, string reason)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        _closeStatus = status;
        _closeReason = reason;
        _slot.Writer.TryComplete();
        try
        {
            // A page that never answers the close (or never reads) is cut off: nothing waits on it for longer.
            _aborted.CancelAfter(CloseWait);
        }
        catch (ObjectDisposedException)
        {
            // The viewer has already ended.
        }
    }

    /// <summary>Runs until the viewer has gone; <paramref name="input"/> takes each message the page sends.</summary>
    public async Task RunAsync(Func<LiveViewer, ReadOnlyMemory<byte>, ValueTask> input)
    {
        var sending = SendAsync();
        try
        {
            await ReceiveAsync(input);
        }
        finally
        {
            Close(WebSocketCloseStatus.NormalClosure, "viewer closed");
            using (var wait = new CancellationTokenSource(CloseWait))
            {
                await sending.WaitAsync(wait.Token).ContinueWith(static _ => { }, TaskScheduler.Default);
            }

            _aborted.Cancel();
            _socket.Abort();
            await sending.ContinueWith(static _ => { }, TaskScheduler.Default);
            _aborted.Dispose();
            _socket.Dispose();
        }
    }

    /// <summary>The frame pump: the hello first (what the page may do), then whatever frame is newest, then the close.</summary>
    private async Task SendAsync()
    {
        try
        {
            var hello = Interactive ? """{"type":"hello","interactive":true}"""u8.ToArray() : """{"type":"hello","interactive":false}"""u8.ToArray();
            await _socket.SendAsync(hello, WebSocketMessageType.Text, endOfMessage: true, _aborted.Token);
            while (await _slot.Reader.WaitToReadAsync(_aborted.Token))
            {
                while (_slot.Reader.TryRead(out var frame))
                {
                    await _socket.SendAsync(frame.Jpeg, WebSocketMessageType.Binary, endOfMessage: true, _aborted.Token);
                    _metrics.FrameSent();
                }
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(_closeStatus, _closeReason, _aborted.Token);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The viewer went away mid-send; the receive pump ends with it.
            _socket.Abort();
        }
    }

    /// <summary>Reads the page's messages: text ones of at most <see cref="LiveInput.MaxMessageBytes"/>; anything else ends the viewer.</summary>
    private async Task ReceiveAsync(Func<LiveViewer, ReadOnlyMemory<byte>, ValueTask> input)
    {
        var buffer = new byte[LiveInput.MaxMessageBytes];
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult received;
                do
                {
                    if (length == buffer.Length)
                    {
                        Close(WebSocketCloseStatus.MessageTooBig, "input message too big");
                        return;
                    }

                    // The token, not Abort alone, ends a pending read: an upgraded Kestrel stream's read does not end when it is disposed.
                    received = await _socket.ReceiveAsync(buffer.AsMemory(length), _aborted.Token);
                    length += received.Count;
                }
                while (!received.EndOfMessage && received.MessageType != WebSocketMessageType.Close);

                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (received.MessageType != WebSocketMessageType.Text)
                {
                    Close(WebSocketCloseStatus.InvalidMessageType, "input is text");
                    return;
                }

                await input(this, buffer.AsMemory(0, length));
            }
        }
        catch (Exception exception) when (exception is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The page went away without a close.
        }
    }
}

/// <summary>One screencast frame as the runtime encoded it; shared by every viewer of the session, never changed.</summary>
internal sealed record LiveFrame(byte[] Jpeg);
