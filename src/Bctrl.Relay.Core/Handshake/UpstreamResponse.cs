using System.Text;

namespace Bctrl.Relay.Handshake;

/// <summary>
/// The runtime's answer to the relay's upgrade request, parsed just enough to check it (RFC 6455 §4.1, the client's
/// checks of the server's handshake):
/// <code>
/// HTTP/1.1 101 Switching Protocols\r\n
/// Upgrade: websocket\r\n
/// Connection: Upgrade\r\n
/// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n
/// \r\n
/// </code>
/// </summary>
internal sealed class UpstreamResponse
{
    private UpstreamResponse(int status, Dictionary<string, string> headers)
    {
        Status = status;
        Headers = headers;
    }

    public int Status { get; }

    public IReadOnlyDictionary<string, string> Headers { get; }

    public string? this[string name] => Headers.GetValueOrDefault(name);

    /// <summary>Finds the end of the header block (<c>\r\n\r\n</c>); -1 when it has not arrived yet.</summary>
    public static int FindHeaderEnd(ReadOnlySpan<byte> data)
    {
        var index = data.IndexOf("\r\n\r\n"u8);
        return index < 0 ? -1 : index + 4;
    }

    /// <summary>Parses a header block; null when it is not an HTTP/1.x response.</summary>
    public static UpstreamResponse? Parse(ReadOnlySpan<byte> headerBlock)
    {
        var text = Encoding.Latin1.GetString(headerBlock);
        var lines = text.Split("\r\n");
        var statusLine = lines[0].Split(' ', 3);
        if (statusLine.Length < 2 || !statusLine[0].StartsWith("HTTP/1.", StringComparison.Ordinal)
            || !int.TryParse(statusLine[1], out var status))
        {
            return null;
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.AsSpan(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            headers[name] = headers.TryGetValue(name, out var existing) ? existing + ", " + value : value;
        }

        return new UpstreamResponse(status, headers);
    }

    /// <summary>True when a comma-separated header holds <paramref name="token"/>, case-insensitively.</summary>
    public bool HeaderHasToken(string name, string token)
    {
        if (!Headers.TryGetValue(name, out var value))
        {
            return false;
        }

        foreach (var part in value.Split(','))
        {
            if (part.Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
