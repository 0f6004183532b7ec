using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Splice;

/// <summary>The status line and headers of an HTTP response, as a raw client read them.</summary>
internal sealed record RawResponse(int Status, string Head, IReadOnlyDictionary<string, string> Headers, string Body)
{
    /// <summary>The <c>error.code</c> of a JSON error body.</summary>
    public string ErrorCode()
    {
        using var json = JsonDocument.Parse(Body);
        return json.RootElement.GetProperty("error").GetProperty("code").GetString()!;
    }
}

/// <summary>
/// A WebSocket client on a raw socket: it writes its own upgrade request and frames (so it can write malformed ones,
/// or a frame in the same TCP write as the request) and reads the relay's bytes exactly as they come.
/// </summary>
internal sealed class RawClient : IAsyncDisposable
{
    private static readonly byte[] ClientMaskKey = [0xA1, 0x5C, 0x03, 0xE7];

    private RawClient(Socket socket, Uri endpoint)
    {
        Endpoint = endpoint;
        Socket = socket;
        Wire = new FakeRuntimeWire(new NetworkStream(socket, ownsSocket: true));
        Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
    }

    public Uri Endpoint { get; }

    /// <summary>The client's socket, for tests that shape it (buffer sizes, a half-close, a reset); <see cref="Wire"/> owns it.</summary>
    public Socket Socket { get; }

    public string Key { get; }

    public FakeRuntimeWire Wire { get; }

    /// <summary>
    /// Connects TCP to the endpoint's host and port; no bytes are sent. <paramref name="configure"/> sees the socket before
    /// it connects (a receive buffer set then is the one the connection keeps).
    /// </summary>
    public static async Task<RawClient> ConnectAsync(Uri endpoint, Action<Socket>? configure = null)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        configure?.Invoke(socket);
        await socket.ConnectAsync(endpoint.Host, endpoint.Port);
        return new RawClient(socket, endpoint);
    }

    /// <summary>Connects, upgrades, and asserts the relay answered 101 with the right accept.</summary>
    public static async Task<RawClient> OpenAsync(Uri endpoint, string? extraHeaders = null, Action<Socket>? configure = null)
    {
        var client = await ConnectAsync(endpoint, configure);
        await client.SendUpgradeAsync(extraHeaders);
        var response = await client.ReadResponseAsync();
        Assert.True(response.Status == 101, $"expected 101, got {response.Head}{response.Body}");
        Assert.Equal(FakeRuntime.ComputeAccept(client.Key), response.Headers["Sec-WebSocket-Accept"]);
        return client;
    }

    public byte[] UpgradeRequest(string? extraHeaders = null)
        => Encoding.ASCII.GetBytes(
            $"GET {Endpoint.PathAndQuery} HTTP/1.1\r\nHost: {Endpoint.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + $"Sec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\n{extraHeaders}\r\n");

    /// <summary>Writes the upgrade request, and <paramref name="behind"/> in the same write.</summary>
    public Task SendUpgradeAsync(string? extraHeaders = null, byte[]? behind = null)
        => Wire.WriteAsync([.. UpgradeRequest(extraHeaders), .. behind ?? []]);

    /// <summary>Reads a response head and, for anything but 101, its body (Content-Length or chunked).</summary>
    public async Task<RawResponse> ReadResponseAsync()
    {
        var head = await Wire.ReadHeadAsync();
        var lines = head.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        var body = string.Empty;
        if (status != 101)
        {
            body = headers.TryGetValue("Content-Length", out var length)
                ? Encoding.UTF8.GetString(await Wire.ReadExactlyAsync(int.Parse(length, System.Globalization.CultureInfo.InvariantCulture)))
                : headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase)
                    ? await ReadChunkedAsync()
                    : string.Empty;
        }

        return new RawResponse(status, head, headers, body);
    }

    /// <summary>Sends a frame as a client: masked unless told otherwise.</summary>
    public Task SendFrameAsync(byte opcode, byte[] payload, bool fin = true, bool mask = true, byte rsv = 0)
        => Wire.WriteAsync(Frame(opcode, payload, fin, mask, rsv));

    public Task SendCloseAsync(ushort code, string reason = "")
        => SendFrameAsync(FakeRuntimeFrame.Close, FakeRuntimeFrame.ClosePayload(code, reason));

    public Task SendRawAsync(byte[] bytes) => Wire.WriteAsync(bytes);

    public Task<FakeRuntimeFrame> ReadFrameAsync() => Wire.ReadFrameAsync();

    /// <summary>Reads frames, skipping the relay's keep-alive pings, until one that is not a ping.</summary>
    public async Task<FakeRuntimeFrame> ReadFrameSkippingPingsAsync()
    {
        while (true)
        {
            var frame = await Wire.ReadFrameAsync();
            if (frame.Opcode != FakeRuntimeFrame.Ping)
            {
                return frame;
            }
        }
    }

    /// <summary>Expects a close frame next (keep-alive pings aside), answers it as a client does, and waits for the end.</summary>
    public async Task<FakeRuntimeFrame> ExpectCloseAndAnswerAsync()
    {
        var close = await ReadFrameSkippingPingsAsync();
        Assert.True(close.Opcode == FakeRuntimeFrame.Close, $"expected a close frame, got {close}");
        await SendFrameAsync(FakeRuntimeFrame.Close, close.Payload.Length >= 2 ? close.Payload[..2] : []);
        await Wire.ReadToEndAsync();
        return close;
    }

    public Task<long> ReadToEndAsync() => Wire.ReadToEndAsync();

    /// <summary>A client frame with this client's fixed masking key.</summary>
    public static byte[] Frame(byte opcode, byte[] payload, bool fin = true, bool mask = true, byte rsv = 0)
        => FakeRuntimeFrame.Encode(opcode, payload, fin, mask, rsv, ClientMaskKey);

    public ValueTask DisposeAsync() => Wire.DisposeAsync();

    private async Task<string> ReadChunkedAsync()
    {
        var body = new StringBuilder();
        while (true)
        {
            var sizeLine = await ReadLineAsync();
            var size = Convert.ToInt32(sizeLine.Split(';')[0].Trim(), 16);
            if (size == 0)
            {
                await ReadLineAsync();
                return body.ToString();
            }

            body.Append(Encoding.UTF8.GetString(await Wire.ReadExactlyAsync(size)));
            await ReadLineAsync();
        }
    }

    private async Task<string> ReadLineAsync()
    {
        var line = new StringBuilder();
        while (true)
        {
            var b = (await Wire.ReadExactlyAsync(1))[0];
            if (b == '\n')
            {
                return line.ToString().TrimEnd('\r');
            }

            line.Append((char)b);
        }
    }
}
