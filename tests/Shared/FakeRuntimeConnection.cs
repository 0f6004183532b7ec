using System.Net.Sockets;

namespace Bctrl.Relay.Testing;

/// <summary>
/// One connection the fake runtime accepted: the request it received, and after a successful handshake the raw byte
/// stream, for the test to read and write frames (well-formed or not) as the runtime.
/// </summary>
public sealed class FakeRuntimeConnection : IAsyncDisposable
{
    private readonly Socket _socket;

    internal FakeRuntimeConnection(Socket socket, FakeRuntimeWire wire, string requestHead, FakeRuntimeBehavior behavior)
    {
        _socket = socket;
        Wire = wire;
        RequestHead = requestHead;
        Behavior = behavior;
        var lines = requestHead.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        RequestLine = lines.Length > 0 ? lines[0] : string.Empty;
        var parts = RequestLine.Split(' ');
        Method = parts.Length > 0 ? parts[0] : string.Empty;
        Target = parts.Length > 1 ? parts[1] : string.Empty;
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }
        }

        HeaderList = headers;
    }

    /// <summary>The request head exactly as received, up to and including the blank line.</summary>
    public string RequestHead { get; }

    public string RequestLine { get; }

    public string Method { get; }

    /// <summary>The request target (path and query).</summary>
    public string Target { get; }

    /// <summary>Every header line in order, as received.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> HeaderList { get; }

    public FakeRuntimeBehavior Behavior { get; }

    /// <summary>
    /// Bytes that had arrived behind the request head by the moment the 101 was written (buffered plus waiting in the
    /// socket). A relay that forwards a client's early frames before the runtime's 101 makes this non-zero.
    /// </summary>
    public int EarlyBytes { get; internal set; }

    public FakeRuntimeWire Wire { get; }

    /// <summary>The connection's socket, for tests that shape it (buffer sizes, a half-close); <see cref="Wire"/> reads and writes it.</summary>
    public Socket Socket => _socket;

    /// <summary>Ends when the scripted part of the connection (the echo loop, if any) has ended.</summary>
    public Task Completion { get; internal set; } = Task.CompletedTask;

    /// <summary>The value of a header (repeated lines joined with ", "), or null.</summary>
    public string? Header(string name)
    {
        var values = HeaderList.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToArray();
        return values.Length == 0 ? null : string.Join(", ", values);
    }

    public Task<FakeRuntimeFrame> ReadFrameAsync() => Wire.ReadFrameAsync();

    /// <summary>Sends a frame as a server does: unmasked.</summary>
    public Task SendFrameAsync(byte opcode, byte[] payload, bool fin = true)
        => Wire.WriteAsync(FakeRuntimeFrame.Encode(opcode, payload, fin));

    public Task SendCloseAsync(ushort code, string reason = "")
        => SendFrameAsync(FakeRuntimeFrame.Close, FakeRuntimeFrame.ClosePayload(code, reason));

    public Task SendRawAsync(byte[] bytes) => Wire.WriteAsync(bytes);

    /// <summary>Reads until the relay ends the connection; returns how many bytes came first.</summary>
    public Task<long> ReadToEndAsync() => Wire.ReadToEndAsync();

    /// <summary>Ends the connection without a close frame (FIN): the runtime vanished.</summary>
    public void Drop()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already gone.
        }

        _socket.Close();
    }

    /// <summary>Resets the connection (RST).</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    /// <summary>
    /// Echoes frames as a server: data frames come back unmasked with the same opcode, FIN and payload; a ping gets a
    /// pong; a close gets the same close back, then the connection ends (the server closes TCP first, RFC 6455 §7.1.1).
    /// </summary>
    public async Task EchoAsync()
    {
        while (true)
        {
            FakeRuntimeFrame frame;
            try
            {
                frame = await Wire.ReadFrameAsync();
            }
            catch (Exception exception) when (exception is IOException or EndOfStreamException or ObjectDisposedException)
            {
                return;
            }

            var opcode = frame.Opcode == FakeRuntimeFrame.Ping ? FakeRuntimeFrame.Pong : frame.Opcode;
            if (frame.Opcode == FakeRuntimeFrame.Pong)
            {
                continue;
            }

            await Wire.WriteAsync(FakeRuntimeFrame.Encode(opcode, frame.Payload, frame.Fin));
            if (frame.Opcode == FakeRuntimeFrame.Close)
            {
                Drop();
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Wire.DisposeAsync();
        _socket.Dispose();
    }
}
