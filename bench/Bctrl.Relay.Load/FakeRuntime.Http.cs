using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace Bctrl.Relay.Load;

internal sealed partial class FakeRuntime
{
    private const int MaxRequestBytes = 8192;

    /// <summary>RFC 6455 §1.3: the GUID appended to the client's key before hashing.</summary>
    private const string WebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>Reads one HTTP request; answers discovery and closes, or completes the upgrade and serves the socket.</summary>
    private async Task ServeAsync(Socket socket, CancellationToken cancellationToken)
    {
        var stream = new NetworkStream(socket, ownsSocket: false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[MaxRequestBytes];
            var filled = 0;
            int headerEnd;
            while ((headerEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (filled == buffer.Length)
                {
                    await WriteResponseAsync(stream, "431 Request Header Fields Too Large", string.Empty, cancellationToken).ConfigureAwait(false);
                    return;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                filled += read;
            }

            var head = Encoding.ASCII.GetString(buffer, 0, headerEnd);
            var lines = head.Split("\r\n");
            var requestLine = lines[0].Split(' ');
            var path = requestLine.Length >= 2 ? requestLine[1] : string.Empty;
            var key = Header(lines, "Sec-WebSocket-Key");
            var upgrade = Header(lines, "Upgrade");

            if (upgrade is not null && upgrade.Equals("websocket", StringComparison.OrdinalIgnoreCase) && key is not null
                && path.StartsWith("/devtools/", StringComparison.Ordinal))
            {
                if (filled != headerEnd + 4)
                {
                    // Neither ClientWebSocket nor the relay sends before the 101; bytes here would be a client bug.
                    RecordError("bytes after the upgrade request, before the 101");
                    return;
                }

                var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + WebSocketGuid)));
                var response = $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response), cancellationToken).ConfigureAwait(false);
                using var webSocket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
                {
                    IsServer = true,
                    KeepAliveInterval = TimeSpan.Zero,
                });
                await ServeWebSocketAsync(webSocket, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (path is "/json/version" or "/json/version/")
            {
                var body = $"{{\"Browser\":\"FakeRuntime/1.0\",\"Protocol-Version\":\"1.3\",\"webSocketDebuggerUrl\":\"{BrowserSocketUrl}\"}}";
                await WriteResponseAsync(stream, "200 OK", body, cancellationToken).ConfigureAwait(false);
                return;
            }

            await WriteResponseAsync(stream, "404 Not Found", "{}", cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task WriteResponseAsync(NetworkStream stream, string status, string body, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var head = $"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
    }

    private static string? Header(string[] lines, string name)
    {
        for (var i = 1; i < lines.Length; i++)
        {
            var colon = lines[i].IndexOf(':');
            if (colon > 0 && lines[i].AsSpan(0, colon).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return lines[i][(colon + 1)..].Trim();
            }
        }

        return null;
    }
}
