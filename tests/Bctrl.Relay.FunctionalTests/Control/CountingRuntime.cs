using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary>
/// A stand-in runtime on 127.0.0.1:0 that counts every TCP connection it accepts, so a test can tell whether the relay
/// opened an upstream connection. It answers a WebSocket upgrade with a minimal 101 (RFC 6455 §4.2.2) and holds the
/// socket open, and answers Chromium's discovery documents (<c>/json/version</c>, <c>/json/list</c>, <c>/json</c>,
/// <c>/json/protocol</c>) with its own address in them, the way Chromium does.
/// </summary>
internal sealed class CountingRuntime : IAsyncDisposable
{
    // No run of five digits in any document (ids, versions, hashes), so that a test can look for the port anywhere.
    public const string BrowserId = "4f1c2b3a-9d8e-4f7a-a1b2-c3d4e5f6a7b8";
    public const string PageId1 = "B5D1E0C3A2F44E7E9A1B2C3D4E5F6071";
    public const string PageId2 = "0A1B2C3D4E5F6A7B8C9DAEBFC0D1E2F3";

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Socket> _sockets = [];
    private readonly ConcurrentBag<Task> _handlers = [];
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly Task _acceptLoop;
    private int _accepted;
    private int _upgrades;
    private int _disposed;

    public CountingRuntime()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port { get; }

    /// <summary>The browser socket, as a runtime registers it: <c>ws://127.0.0.1:PORT/devtools/browser/ID</c>.</summary>
    public Uri CdpUrl => new($"ws://127.0.0.1:{Port}/devtools/browser/{BrowserId}");

    /// <summary>The debugging port, as a runtime may register it instead: <c>http://127.0.0.1:PORT</c>.</summary>
    public Uri HttpUrl => new($"http://127.0.0.1:{Port}");

    /// <summary>TCP connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>WebSocket upgrade requests received so far.</summary>
    public int Upgrades => Volatile.Read(ref _upgrades);

    /// <summary>Request lines received (like <c>GET /json/list HTTP/1.1</c>).</summary>
    public IReadOnlyCollection<string> Requests => _requests;

    /// <summary>How long to wait before answering an upgrade with 101.</summary>
    public TimeSpan HandshakeDelay { get; set; }

    /// <summary>When true, discovery answers announce a longer body than they send, then close: a broken runtime.</summary>
    public bool TruncateDiscovery { get; set; }

    public static string VersionDocument(int port) => $$"""
        {
           "Browser": "HeadlessChrome/131.0.6778.85",
           "Protocol-Version": "1.3",
           "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.85 Safari/537.36",
           "V8-Version": "13.1.201.9",
           "WebKit-Version": "537.36 (@3d81e41b6f3ac8bcae63b32e8145c9eb0cd60a2d)",
           "webSocketDebuggerUrl": "ws://127.0.0.1:{{port}}/devtools/browser/{{BrowserId}}"
        }
        """;

    public static string ListDocument(int port) => $$"""
        [ {
           "description": "",
           "devtoolsFrontendUrl": "https://chrome-devtools-frontend.appspot.com/serve_rev/@3d81e41b6f3ac8bcae63b32e8145c9eb0cd60a2d/inspector.html?ws=127.0.0.1:{{port}}/devtools/page/{{PageId1}}",
           "id": "{{PageId1}}",
           "title": "Example Domain",
           "type": "page",
           "url": "https://example.com/",
           "webSocketDebuggerUrl": "ws://127.0.0.1:{{port}}/devtools/page/{{PageId1}}"
        }, {
           "description": "",
           "devtoolsFrontendUrl": "/devtools/inspector.html?ws=127.0.0.1:{{port}}/devtools/page/{{PageId2}}",
           "id": "{{PageId2}}",
           "title": "about:blank",
           "type": "page",
           "url": "about:blank",
           "webSocketDebuggerUrl": "ws://127.0.0.1:{{port}}/devtools/page/{{PageId2}}"
        } ]
        """;

    public const string ProtocolDocument = """{"domains":[{"domain":"Page","commands":[]}],"version":{"major":"1","minor":"3"}}""";

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
            using var stream = new NetworkStream(socket, ownsSocket: false);
            var pending = new List<byte>();
            var buffer = new byte[4096];
            while (true)
            {
                var end = FindHeaderEnd(pending);
                while (end < 0)
                {
                    var read = await stream.ReadAsync(buffer, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    pending.AddRange(buffer.AsSpan(0, read));
                    end = FindHeaderEnd(pending);
                }

                var head = Encoding.ASCII.GetString(pending.GetRange(0, end).ToArray());
                pending.RemoveRange(0, end);
                var lines = head.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
                _requests.Enqueue(lines[0]);
                var headers = lines.Skip(1)
                    .Select(l => (Name: l[..l.IndexOf(':', StringComparison.Ordinal)].Trim(), Value: l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()))
                    .ToArray();
                var key = headers.FirstOrDefault(h => h.Name.Equals("Sec-WebSocket-Key", StringComparison.OrdinalIgnoreCase)).Value;
                if (headers.Any(h => h.Name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase) && h.Value.Contains("websocket", StringComparison.OrdinalIgnoreCase)))
                {
                    Interlocked.Increment(ref _upgrades);
                    await AnswerUpgradeAsync(stream, key ?? string.Empty);
                    return;
                }

                if (!await AnswerDiscoveryAsync(stream, lines[0].Split(' ')[1]))
                {
                    return;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The relay or the test went away.
        }
        finally
        {
            socket.Dispose();
        }
    }

    private async Task AnswerUpgradeAsync(NetworkStream stream, string key)
    {
        if (HandshakeDelay > TimeSpan.Zero)
        {
            await Task.Delay(HandshakeDelay, _stop.Token);
        }

        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        var answer = $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(answer), _stop.Token);

        // Hold the socket (discarding frames) until the relay or the test closes it.
        var sink = new byte[4096];
        while (await stream.ReadAsync(sink, _stop.Token) > 0)
        {
        }
    }

    /// <summary>Answers one discovery request; false when the connection should close.</summary>
    private async Task<bool> AnswerDiscoveryAsync(NetworkStream stream, string path)
    {
        var document = path.TrimEnd('/') switch
        {
            "/json/version" => VersionDocument(Port),
            "/json/list" or "/json" => ListDocument(Port),
            "/json/protocol" => ProtocolDocument,
            _ => null,
        };

        if (document is null)
        {
            await stream.WriteAsync("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), _stop.Token);
            return true;
        }

        var body = Encoding.UTF8.GetBytes(document);
        if (TruncateDiscovery)
        {
            var head = $"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: {body.Length + 1000}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), _stop.Token);
            await stream.WriteAsync(body.AsMemory(0, body.Length / 2), _stop.Token);
            return false;
        }

        var headers = $"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: {body.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(headers), _stop.Token);
        await stream.WriteAsync(body, _stop.Token);
        return true;
    }

    private static int FindHeaderEnd(List<byte> bytes)
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
}
