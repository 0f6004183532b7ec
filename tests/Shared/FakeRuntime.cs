using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Channels;

namespace Bctrl.Relay.Testing;

/// <summary>
/// A deterministic, scripted stand-in for a browser's CDP endpoint: a raw TCP listener on loopback port 0 that counts
/// the connections it accepts, answers each WebSocket upgrade as <see cref="Behavior"/> says (correctly, or in one of
/// the ways a broken upstream does), records the request it got, and then hands the raw stream to the test (or echoes).
/// It also serves <c>GET /json/version</c> for an <c>http://</c> cdpUrl.
/// </summary>
public sealed class FakeRuntime : IAsyncDisposable
{
    /// <summary>The browser id in the socket path; /json/version names it too.</summary>
    public const string BrowserId = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

    private static readonly byte[] AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8.ToArray();

    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<FakeRuntimeConnection> _connections = Channel.CreateUnbounded<FakeRuntimeConnection>();
    private readonly ConcurrentBag<Socket> _sockets = [];
    private readonly ConcurrentBag<Task> _handlers = [];
    private readonly ConcurrentQueue<Exception> _errors = new();
    private readonly Task _acceptLoop;
    private int _accepted;
    private int _versionRequests;
    private volatile string? _restartedAs;

    private FakeRuntime(Socket listener, FakeRuntimeBehavior behavior)
    {
        _listener = listener;
        Behavior = behavior;
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        Port = endpoint.Port;
        Host = endpoint.Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]" : endpoint.Address.ToString();
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>How the next upgrade requests are answered; may be changed between attaches.</summary>
    public FakeRuntimeBehavior Behavior { get; set; }

    /// <summary>When set, every accepted WebSocket connection runs <see cref="FakeRuntimeConnection.EchoAsync"/>.</summary>
    public bool Echo { get; set; }

    /// <summary>How long to wait between receiving an upgrade request and answering it.</summary>
    public TimeSpan HandshakeDelay { get; set; }

    /// <summary>When set, every connection speaks TLS with this certificate first (a <c>wss://</c> or <c>https://</c> runtime).</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Bytes written right behind the 101, in the same TCP write (like a runtime that speaks at once).</summary>
    public byte[] BehindHandshake { get; set; } = [];

    public int Port { get; }

    /// <summary>The listening address as a URI host: <c>127.0.0.1</c> or <c>[::1]</c>.</summary>
    public string Host { get; }

    /// <summary><c>host:port</c>, what a correct <c>Host</c> header says.</summary>
    public string Authority => $"{Host}:{Port}";

    /// <summary>The browser socket, for a <c>ws://</c> cdpUrl.</summary>
    public Uri WebSocketUrl => new($"ws://{Authority}/devtools/browser/{BrowserId}");

    /// <summary>The debugging base, for an <c>http://</c> cdpUrl.</summary>
    public Uri HttpUrl => new($"http://{Authority}");

    /// <summary>TCP connections accepted so far, WebSocket or not.</summary>
    public int AcceptedConnections => Volatile.Read(ref _accepted);

    public int VersionRequests => Volatile.Read(ref _versionRequests);

    /// <summary>Failures inside the fake itself (not the relay's doing); a test can assert there are none.</summary>
    public IReadOnlyCollection<Exception> Errors => _errors;

    /// <summary>
    /// Acts as a browser that restarted with a new id: <c>/json/version</c> names <paramref name="browserId"/>, and an
    /// upgrade to any other socket path is answered 404.
    /// </summary>
    public void Restart(string browserId) => _restartedAs = browserId;

    public static FakeRuntime Start(FakeRuntimeBehavior behavior = FakeRuntimeBehavior.Accept, IPAddress? address = null)
    {
        address ??= IPAddress.Loopback;
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(address, 0));
        listener.Listen(64);
        return new FakeRuntime(listener, behavior);
    }

    /// <summary>The next connection that sent an upgrade request, once the scripted answer has been written.</summary>
    public async Task<FakeRuntimeConnection> NextConnectionAsync(TimeSpan? timeout = null)
    {
        using var wait = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            return await _connections.Reader.ReadAsync(wait.Token);
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
            throw new TimeoutException("No upgrade request reached the fake runtime.");
        }
    }

    /// <summary>Whether an upgrade request has arrived that no one took with <see cref="NextConnectionAsync"/>.</summary>
    public bool HasPendingConnection => _connections.Reader.Count > 0;

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        try
        {
            await Task.WhenAll(_handlers.Append(_acceptLoop)).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Handlers end with their sockets.
        }

        _stop.Dispose();
    }

    /// <summary>RFC 6455 §4.2.2: base64(SHA-1(key + GUID)).</summary>
    public static string ComputeAccept(string key)
        => Convert.ToBase64String(SHA1.HashData([.. Encoding.ASCII.GetBytes(key), .. AcceptGuid]));

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            socket.NoDelay = true;
            _sockets.Add(socket);
            _handlers.Add(Task.Run(() => HandleAsync(socket)));
        }
    }

    private async Task HandleAsync(Socket socket)
    {
        var behavior = Behavior;
        Stream stream = new NetworkStream(socket, ownsSocket: false);
        try
        {
            if (Certificate is { } certificate)
            {
                var tls = new SslStream(stream);
                await tls.AuthenticateAsServerAsync(certificate);
                stream = tls;
            }

            var wire = new FakeRuntimeWire(stream);
            var head = await wire.ReadHeadAsync();
            var connection = new FakeRuntimeConnection(socket, wire, head, behavior);
            if (connection.Header("Upgrade") is null && connection.Target.StartsWith("/json/version", StringComparison.Ordinal))
            {
                await AnswerVersionAsync(connection);
                return;
            }

            var restartedAs = _restartedAs;
            if (restartedAs is not null && connection.Target != $"/devtools/browser/{restartedAs}")
            {
                // A restarted browser has a new id: its old socket path is gone, as Chromium answers it.
                await wire.WriteAsync("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
                return;
            }

            switch (behavior)
            {
                case FakeRuntimeBehavior.Reset:
                    _connections.Writer.TryWrite(connection);
                    connection.Reset();
                    return;
                case FakeRuntimeBehavior.Hang:
                    _connections.Writer.TryWrite(connection);
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                    return;
                case FakeRuntimeBehavior.Answer200:
                    await wire.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"u8.ToArray());
                    _connections.Writer.TryWrite(connection);
                    return;
                case FakeRuntimeBehavior.Answer101WithoutAccept:
                    await wire.WriteAsync("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"u8.ToArray());
                    _connections.Writer.TryWrite(connection);
                    return;
                case FakeRuntimeBehavior.Answer101WrongAccept:
                    await wire.WriteAsync(SwitchingProtocols(ComputeAccept("dGhlIHNhbXBsZSBub25jZQ==")));
                    _connections.Writer.TryWrite(connection);
                    return;
            }

            if (HandshakeDelay > TimeSpan.Zero)
            {
                await Task.Delay(HandshakeDelay, _stop.Token);
            }

            connection.EarlyBytes = wire.Buffered + socket.Available;
            try
            {
                await wire.WriteAsync([.. SwitchingProtocols(ComputeAccept(connection.Header("Sec-WebSocket-Key") ?? string.Empty)), .. BehindHandshake]);
            }
            catch (IOException)
            {
                // The relay gave up on this connection first; the test still gets to see it.
                _connections.Writer.TryWrite(connection);
                return;
            }

            if (Echo)
            {
                wire.ReadTimeout = Timeout.InfiniteTimeSpan;
                connection.Completion = connection.EchoAsync();
            }

            _connections.Writer.TryWrite(connection);
            await connection.Completion;
        }
        catch (Exception exception) when (exception is IOException or EndOfStreamException or SocketException or ObjectDisposedException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            // The relay (or the test) ended the connection, or refused the TLS handshake.
        }
        catch (Exception exception)
        {
            _errors.Enqueue(exception);
        }
    }

    private static byte[] SwitchingProtocols(string accept)
        => Encoding.ASCII.GetBytes($"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n");

    private async Task AnswerVersionAsync(FakeRuntimeConnection connection)
    {
        Interlocked.Increment(ref _versionRequests);

        // Chromium names the host it was asked by; a relay must take only the path (it dials the registered address).
        var body = Encoding.UTF8.GetBytes(
            $"{{\"Browser\":\"FakeRuntime/1.0\",\"Protocol-Version\":\"1.3\",\"webSocketDebuggerUrl\":\"ws://runtime.invalid:1/devtools/browser/{_restartedAs ?? BrowserId}\"}}");
        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        await connection.Wire.WriteAsync([.. head, .. body]);
        connection.Drop();
    }
}
