using System.Net.Sockets;
using System.Text;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary>
/// An HTTP/1.1 client over a raw socket, so that tests control every header of a WebSocket opening handshake (RFC 6455
/// §4.1) and see exactly what the relay answers, including a 101 that <see cref="HttpClient"/> would hide.
/// </summary>
internal static class RawHttp
{
    /// <summary>A fresh, valid Sec-WebSocket-Key: base64 of 16 bytes.</summary>
    public static string NewKey() => Convert.ToBase64String(Guid.NewGuid().ToByteArray());

    /// <summary>The headers of a proper upgrade request, with <paramref name="key"/> (a fresh one when null).</summary>
    public static List<(string Name, string Value)> UpgradeHeaders(string? key = null) =>
    [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", key ?? NewKey()),
    ];

    /// <summary>A WebSocket upgrade GET of <paramref name="pathAndQuery"/> with the proper headers.</summary>
    public static Task<RawResponse> UpgradeAsync(Uri server, string pathAndQuery, string? key = null)
        => SendAsync(server, "GET", pathAndQuery, UpgradeHeaders(key));

    /// <summary>
    /// Sends one request and reads one response. A 101 leaves the socket open in the response (dispose it); any other
    /// status is read to the end of its body.
    /// </summary>
    public static async Task<RawResponse> SendAsync(
        Uri server, string method, string pathAndQuery, IEnumerable<(string Name, string Value)> headers, string? body = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(server.Host, server.Port, timeout.Token);
            var request = new StringBuilder()
                .Append(method).Append(' ').Append(pathAndQuery).Append(" HTTP/1.1\r\n")
                .Append("Host: ").Append(server.Authority).Append("\r\n");
            foreach (var (name, value) in headers)
            {
                request.Append(name).Append(": ").Append(value).Append("\r\n");
            }

            var bodyBytes = body is null ? [] : Encoding.UTF8.GetBytes(body);
            if (body is not null)
            {
                request.Append("Content-Length: ").Append(bodyBytes.Length).Append("\r\n");
            }

            request.Append("\r\n");
            await socket.SendAsync(Encoding.ASCII.GetBytes(request.ToString()), SocketFlags.None, timeout.Token);
            if (bodyBytes.Length > 0)
            {
                await socket.SendAsync(bodyBytes, SocketFlags.None, timeout.Token);
            }

            var reader = new SocketReader(socket);
            var response = await ReadResponseAsync(reader, timeout.Token);
            if (response.Status == 101)
            {
                response.Socket = socket;
                return response;
            }

            socket.Dispose();
            return response;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<RawResponse> ReadResponseAsync(SocketReader reader, CancellationToken cancellationToken)
    {
        var statusLine = await reader.ReadLineAsync(cancellationToken) ?? throw new IOException("The server closed the connection without answering.");
        var parts = statusLine.Split(' ', 3);
        var response = new RawResponse { Status = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) };
        while (await reader.ReadLineAsync(cancellationToken) is { Length: > 0 } line)
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            response.Headers.Add((line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }

        if (response.Status == 101 || response.Status == 204 || response.Status == 304)
        {
            return response;
        }

        byte[] body;
        if (response.Header("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)
        {
            using var collected = new MemoryStream();
            while (true)
            {
                var sizeLine = await reader.ReadLineAsync(cancellationToken) ?? throw new IOException("Truncated chunked body.");
                var size = Convert.ToInt32(sizeLine.Split(';')[0].Trim(), 16);
                if (size == 0)
                {
                    while (await reader.ReadLineAsync(cancellationToken) is { Length: > 0 })
                    {
                        // Trailers: none expected.
                    }

                    break;
                }

                collected.Write(await reader.ReadExactAsync(size, cancellationToken));
                await reader.ReadLineAsync(cancellationToken);
            }

            body = collected.ToArray();
        }
        else if (response.Header("Content-Length") is { } length)
        {
            body = await reader.ReadExactAsync(int.Parse(length, System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        }
        else
        {
            body = await reader.ReadToEndAsync(cancellationToken);
        }

        response.Body = Encoding.UTF8.GetString(body);
        return response;
    }

    /// <summary>Buffered reads of lines and counted bytes from a socket.</summary>
    private sealed class SocketReader(Socket socket)
    {
        private readonly byte[] _buffer = new byte[8192];
        private int _start;
        private int _end;

        public async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
        {
            var line = new List<byte>();
            while (true)
            {
                if (_start == _end && !await FillAsync(cancellationToken))
                {
                    return line.Count == 0 ? null : Encoding.ASCII.GetString(line.ToArray());
                }

                var b = _buffer[_start++];
                if (b == (byte)'\n')
                {
                    if (line.Count > 0 && line[^1] == (byte)'\r')
                    {
                        line.RemoveAt(line.Count - 1);
                    }

                    return Encoding.ASCII.GetString(line.ToArray());
                }

                line.Add(b);
            }
        }

        public async Task<byte[]> ReadExactAsync(int count, CancellationToken cancellationToken)
        {
            var result = new byte[count];
            var filled = 0;
            while (filled < count)
            {
                if (_start == _end && !await FillAsync(cancellationToken))
                {
                    throw new IOException($"The body ended after {filled} of {count} bytes.");
                }

                var n = Math.Min(count - filled, _end - _start);
                _buffer.AsSpan(_start, n).CopyTo(result.AsSpan(filled));
                _start += n;
                filled += n;
            }

            return result;
        }

        public async Task<byte[]> ReadToEndAsync(CancellationToken cancellationToken)
        {
            using var collected = new MemoryStream();
            do
            {
                collected.Write(_buffer, _start, _end - _start);
                _start = _end;
            }
            while (await FillAsync(cancellationToken));
            return collected.ToArray();
        }

        private async Task<bool> FillAsync(CancellationToken cancellationToken)
        {
            _start = 0;
            _end = 0;
            int received;
            try
            {
                received = await socket.ReceiveAsync(_buffer, SocketFlags.None, cancellationToken);
            }
            catch (SocketException)
            {
                return false;
            }

            _end = received;
            return received > 0;
        }
    }
}

/// <summary>What the relay answered; <see cref="Socket"/> is open only after a 101.</summary>
internal sealed class RawResponse : IDisposable
{
    public int Status { get; init; }

    public List<(string Name, string Value)> Headers { get; } = [];

    public string Body { get; set; } = string.Empty;

    public Socket? Socket { get; set; }

    public string? Header(string name)
    {
        var values = Headers.Where(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToArray();
        return values.Length == 0 ? null : string.Join(", ", values);
    }

    public void Dispose() => Socket?.Dispose();
}
