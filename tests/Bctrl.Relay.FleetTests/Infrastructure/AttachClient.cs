using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FleetTests.Infrastructure;

/// <summary>
/// A WebSocket client on a raw socket, as a CDP client would be: it upgrades, sends masked frames, answers pings, and
/// reads the relay's close exactly. Every read is bounded by the wire's read timeout.
/// </summary>
public sealed class AttachClient : IAsyncDisposable
{
    private static readonly byte[] MaskKey = [0x3C, 0x91, 0x5E, 0x07];

    private readonly Socket _socket;

    private AttachClient(Socket socket, FakeRuntimeWire wire)
    {
        _socket = socket;
        Wire = wire;
    }

    public FakeRuntimeWire Wire { get; }

    /// <summary>Attaches to <paramref name="relay"/> with the token of <paramref name="endpoint"/> (a lease made on any node).</summary>
    public static async Task<AttachResult> AttachAsync(Uri relay, Uri endpoint)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(relay.Host, relay.Port);
            var wire = new FakeRuntimeWire(new NetworkStream(socket, ownsSocket: true));
            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            await wire.WriteAsync(Encoding.ASCII.GetBytes(
                $"GET {endpoint.AbsolutePath} HTTP/1.1\r\nHost: {relay.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"));
            var head = await wire.ReadHeadAsync();
            var lines = head.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
            var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
            if (status == 101)
            {
                Assert.Equal(FakeRuntime.ComputeAccept(key), headers["Sec-WebSocket-Accept"]);
                return new AttachResult(101, null, null, new AttachClient(socket, wire));
            }

            var body = headers.TryGetValue("Content-Length", out var length)
                ? Encoding.UTF8.GetString(await wire.ReadExactlyAsync(int.Parse(length, CultureInfo.InvariantCulture)))
                : headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase)
                    ? await ReadChunkedAsync(wire)
                    : string.Empty;
            await wire.DisposeAsync();
            string? code = null;
            if (body.Length > 0)
            {
                using var json = JsonDocument.Parse(body);
                code = json.RootElement.GetProperty("error").GetProperty("code").GetString();
            }

            return new AttachResult(status, code, headers.GetValueOrDefault("Retry-After"), null);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<string> ReadChunkedAsync(FakeRuntimeWire wire)
    {
        var body = new StringBuilder();
        while (true)
        {
            var sizeLine = await ReadLineAsync(wire);
            var size = int.Parse(sizeLine.Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                await ReadLineAsync(wire);
                return body.ToString();
            }

            body.Append(Encoding.UTF8.GetString(await wire.ReadExactlyAsync(size)));
            await ReadLineAsync(wire);
        }
    }

    private static async Task<string> ReadLineAsync(FakeRuntimeWire wire)
    {
        var line = new StringBuilder();
        while (true)
        {
            var b = (await wire.ReadExactlyAsync(1))[0];
            if (b == '\n')
            {
                return line.ToString().TrimEnd('\r');
            }

            line.Append((char)b);
        }
    }

    /// <summary>Attaches and asserts 101.</summary>
    public static async Task<AttachClient> OpenAsync(Uri relay, Uri endpoint)
    {
        var result = await AttachAsync(relay, endpoint);
        Assert.True(result.Client is not null, $"expected 101, got {result}");
        return result.Client!;
    }

    public Task SendAsync(byte opcode, byte[] payload)
        => Wire.WriteAsync(FakeRuntimeFrame.Encode(opcode, payload, mask: true, maskKey: MaskKey));

    /// <summary>The next frame that is not a ping (pings are answered).</summary>
    public async Task<FakeRuntimeFrame> ReadAsync()
    {
        while (true)
        {
            var frame = await Wire.ReadFrameAsync();
            if (frame.Opcode != FakeRuntimeFrame.Ping)
            {
                return frame;
            }

            await SendAsync(FakeRuntimeFrame.Pong, frame.Payload);
        }
    }

    /// <summary>Sends a close, waits for the relay's, and for the end of the connection.</summary>
    public async Task CloseAsync()
    {
        await SendAsync(FakeRuntimeFrame.Close, FakeRuntimeFrame.ClosePayload(1000));
        var frame = await ReadAsync();
        Assert.Equal(FakeRuntimeFrame.Close, frame.Opcode);
        await Wire.ReadToEndAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Wire.DisposeAsync();
        _socket.Dispose();
    }
}
