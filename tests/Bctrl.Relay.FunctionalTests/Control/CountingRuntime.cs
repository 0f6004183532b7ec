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
internal sealed class CountingRuntime : LoopbackHttpServer
{
    // No run of five digits in any document (ids, versions, hashes), so that a test can look for the port anywhere.
    public const string BrowserId = "4f1c2b3a-9d8e-4f7a-a1b2-c3d4e5f6a7b8";
    public const string PageId1 = "B5D1E0C3A2F44E7E9A1B2C3D4E5F6071";
    public const string PageId2 = "0A1B2C3D4E5F6A7B8C9DAEBFC0D1E2F3";

    private int _upgrades;

    /// <summary>The browser socket, as a runtime registers it: <c>ws://127.0.0.1:PORT/devtools/browser/ID</c>.</summary>
    public Uri CdpUrl => new($"ws://127.0.0.1:{Port}/devtools/browser/{BrowserId}");

    /// <summary>WebSocket upgrade requests received so far.</summary>
    public int Upgrades => Volatile.Read(ref _upgrades);

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

    protected override async Task ServeAsync(NetworkStream stream)
    {
        var pending = new List<byte>();
        while (await ReadHeadAsync(stream, pending) is { } lines)
        {
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

    private async Task AnswerUpgradeAsync(NetworkStream stream, string key)
    {
        if (HandshakeDelay > TimeSpan.Zero)
        {
            await Task.Delay(HandshakeDelay, Stopping);
        }

        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        var answer = $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(answer), Stopping);

        // Hold the socket (discarding frames) until the relay or the test closes it.
        var sink = new byte[4096];
        while (await stream.ReadAsync(sink, Stopping) > 0)
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
            "/json/activate/" + PageId1 or "/json/activate/" + PageId2 => "Target activated",
            "/json/close/" + PageId1 or "/json/close/" + PageId2 => "Target is closing",
            _ => null,
        };

        if (document is null)
        {
            await stream.WriteAsync("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), Stopping);
            return true;
        }

        var body = Encoding.UTF8.GetBytes(document);
        if (TruncateDiscovery)
        {
            var head = $"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: {body.Length + 1000}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), Stopping);
            await stream.WriteAsync(body.AsMemory(0, body.Length / 2), Stopping);
            return false;
        }

        var headers = $"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: {body.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(headers), Stopping);
        await stream.WriteAsync(body, Stopping);
        return true;
    }
}
