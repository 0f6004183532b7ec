using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary>
/// A stand-in runtime's plumbing on 127.0.0.1:0: it accepts and counts TCP connections, reads HTTP/1.1 request heads,
/// records their request lines, and on dispose closes every socket and waits for every connection's handler. What is
/// answered is the subclass's.
/// </summary>
internal abstract class LoopbackHttpServer : IAsyncDisposable
{
    // A head longer than this is not a request any test sends: the connection is dropped.
    private const int MaxHeadBytes = 16 * 1024;

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Socket> _sockets = [];
    private readonly ConcurrentBag<Task> _handlers = [];
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly Task _acceptLoop;
    private int _accepted;
    private int _disposed;

    /// <remarks>
    /// Connections are accepted from here on, but none can come before the constructor returns the port to the test,
    /// so a subclass's fields (set in field initializers, which run before this) are in place for its first one.
    /// </remarks>
    protected LoopbackHttpServer()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port { get; }

    /// <summary>The debugging port, as a runtime may register it: <c>http://127.0.0.1:PORT</c>.</summary>
    public Uri HttpUrl => new($"http://127.0.0.1:{Port}");

    /// <summary>TCP connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Request lines received (like <c>GET /json/list HTTP/1.1</c>).</summary>
    public IReadOnlyCollection<string> Requests => _requests;

    /// <summary>Cancelled when the server is disposed.</summary>
    protected CancellationToken Stopping => _stop.Token;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        try
        {
            await _acceptLoop;
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        await Task.WhenAll(_handlers);
        _stop.Dispose();
    }

    /// <summary>Serves one connection until it should close; the socket is closed after.</summary>
    protected abstract Task ServeAsync(NetworkStream stream);

    /// <summary>
    /// Reads the next request head from <paramref name="stream"/>, keeping bytes read past it in
    /// <paramref name="pending"/> for the next call, and records its request line. Returns the head's lines (the request
    /// line first), or null when the peer closed first or the head is too long.
    /// </summary>
    protected async Task<string[]?> ReadHeadAsync(NetworkStream stream, List<byte> pending)
    {
        var buffer = new byte[4096];
        var end = FindHeadEnd(pending);
        while (end < 0)
        {
            var read = await stream.ReadAsync(buffer, Stopping);
            if (read == 0 || pending.Count > MaxHeadBytes)
            {
                return null;
            }

            pending.AddRange(buffer.AsSpan(0, read));
            end = FindHeadEnd(pending);
        }

        var head = Encoding.ASCII.GetString(pending.GetRange(0, end).ToArray());
        pending.RemoveRange(0, end);
        var lines = head.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        _requests.Enqueue(lines[0]);
        return lines;
    }

    private static int FindHeadEnd(List<byte> bytes)
    {
        for (var i = 3; i < bytes.Count; i++)
        {
            if (bytes[i - 3] == '\r' && bytes[i - 2] == '\n' && bytes[i - 1] == '\r' && bytes[i] == '\n')
            {
                return i + 1;
            }
        }

        return -1;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stop.Token);
            Interlocked.Increment(ref _accepted);
            _sockets.Add(socket);
            _handlers.Add(HandleAsync(socket));
        }
    }

    private async Task HandleAsync(Socket socket)
    {
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: true);
            await ServeAsync(stream);
        }
        catch (Exception exception) when (exception is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The relay hung up (as it should on a document over a cap), or the test ended.
        }
    }
}
