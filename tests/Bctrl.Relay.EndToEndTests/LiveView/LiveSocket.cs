using System.Net.WebSockets;

namespace Bctrl.Relay.EndToEndTests.LiveView;

/// <summary>
/// A bare viewer of the live view's socket: it reads and counts frames, or, made with <c>read: false</c>, never reads
/// at all (a viewer that has fallen behind for good).
/// </summary>
internal sealed class LiveSocket : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly Task _reading;
    private readonly TaskCompletionSource _hello = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _frames;

    private LiveSocket(ClientWebSocket socket, bool read)
    {
        _socket = socket;
        _reading = read ? ReadAsync() : Task.CompletedTask;
    }

    public int Frames => Volatile.Read(ref _frames);

    public string? Hello { get; private set; }

    public Task HelloReceived => _hello.Task;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    /// <summary>Ends once the relay has closed the socket (or it dropped).</summary>
    public Task Closed => _reading;

    /// <summary>The socket URL of a live view page URL: <c>http://host/live/TOKEN</c> → <c>ws://host/live/TOKEN/socket</c>.</summary>
    public static Uri SocketUrl(string pageUrl) => new("ws" + pageUrl["http".Length..] + "/socket");

    public static async Task<LiveSocket> ConnectAsync(string pageUrl, bool read = true)
    {
        var socket = new ClientWebSocket();
        socket.Options.Proxy = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await socket.ConnectAsync(SocketUrl(pageUrl), timeout.Token);
        return new LiveSocket(socket, read);
    }

    public Task SendTextAsync(string text)
        => _socket.SendAsync(System.Text.Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    public async Task WaitForFramesAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Frames < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{Frames} frames after {timeout.TotalSeconds} s; expected {count}.");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        await _reading;
        _socket.Dispose();
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[1 << 20];
        try
        {
            while (true)
            {
                var received = await _socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (received.MessageType == WebSocketMessageType.Text && Hello is null)
                {
                    Hello = System.Text.Encoding.UTF8.GetString(buffer, 0, received.Count);
                    _hello.TrySetResult();
                }
                else if (received.EndOfMessage && received.MessageType == WebSocketMessageType.Binary)
                {
                    Interlocked.Increment(ref _frames);
                }
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            // Aborted by DisposeAsync, or dropped.
        }
    }
}
