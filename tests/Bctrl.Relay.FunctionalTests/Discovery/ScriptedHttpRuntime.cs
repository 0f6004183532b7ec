using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Bctrl.Relay.FunctionalTests.Discovery;

/// <summary>
/// A hostile runtime on 127.0.0.1:0 for discovery: every request is answered by a script that writes raw HTTP/1.1 to
/// the socket (a redirect, a lying length, an endless chunked body), then the connection closes. It counts the
/// connections it accepts, so a test can tell that the relay never reached it.
/// </summary>
internal sealed class ScriptedHttpRuntime : IAsyncDisposable
{
    private readonly Func<string, Stream, CancellationToken, Task> _answer;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _handlers = [];
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly Task _acceptLoop;
    private int _accepted;

    /// <param name="answer">Writes the whole answer to a request for the path it is given.</param>
    public ScriptedHttpRuntime(Func<string, Stream, CancellationToken, Task> answer)
    {
        _answer = answer;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port { get; }

    /// <summary>The debugging port, as a runtime registers it for an attach that resolves <c>/json/version</c>.</summary>
    public Uri HttpUrl => new($"http://127.0.0.1:{Port}");

    /// <summary>TCP connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Request lines received (like <c>GET /json/list HTTP/1.1</c>).</summary>
    public IReadOnlyCollection<string> Requests => _requests;

    /// <summary>A 200 with a Content-Length.</summary>
    public static async Task JsonAsync(Stream stream, string document, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(document);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"), cancellationToken);
        await stream.WriteAsync(body, cancellationToken);
    }

    /// <summary>A 302 to <paramref name="location"/>.</summary>
    public static Task RedirectAsync(Stream stream, Uri location, CancellationToken cancellationToken)
        => stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), cancellationToken).AsTask();

    /// <summary>
    /// A 200 whose body is <paramref name="head"/>, then <paramref name="block"/> <paramref name="repeat"/> times joined
    /// by commas, then <paramref name="tail"/>: a document of any size from one buffer. Chunked (one chunk per piece)
    /// unless <paramref name="contentLength"/> is set, which is announced as given (it may lie).
    /// </summary>
    public static async Task RepeatedAsync(
        Stream stream, string head, byte[] block, long repeat, string tail, bool chunked, long? contentLength, CancellationToken cancellationToken)
    {
        var headBytes = Encoding.UTF8.GetBytes(head);
        var tailBytes = Encoding.UTF8.GetBytes(tail);
        var framing = chunked ? "Transfer-Encoding: chunked" : $"Content-Length: {contentLength}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\n{framing}\r\nConnection: close\r\n\r\n"), cancellationToken);
        var comma = ","u8.ToArray();
        await PieceAsync(headBytes);
        for (var i = 0L; i < repeat; i++)
        {
            if (i > 0)
            {
                await PieceAsync(comma);
            }

            await PieceAsync(block);
        }

        await PieceAsync(tailBytes);
        if (chunked)
        {
            await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), cancellationToken);
        }

        async Task PieceAsync(byte[] piece)
        {
            if (chunked)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(piece.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n"), cancellationToken);
                await stream.WriteAsync(piece, cancellationToken);
                await stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken);
            }
            else
            {
                await stream.WriteAsync(piece, cancellationToken);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
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

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stop.Token);
            Interlocked.Increment(ref _accepted);
            _handlers.Add(HandleAsync(socket));
        }
    }

    private async Task HandleAsync(Socket socket)
    {
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: true);
            var head = new StringBuilder();
            var one = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                if (await stream.ReadAsync(one, _stop.Token) == 0 || head.Length > 16_384)
                {
                    return;
                }

                head.Append((char)one[0]);
            }

            var requestLine = head.ToString()[..head.ToString().IndexOf("\r\n", StringComparison.Ordinal)];
            _requests.Enqueue(requestLine);
            await _answer(requestLine.Split(' ')[1], stream, _stop.Token);
        }
        catch (Exception exception) when (exception is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The relay hung up (as it should on a document over the cap), or the test ended.
        }
    }
}
