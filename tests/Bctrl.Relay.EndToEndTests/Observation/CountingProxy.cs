using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Bctrl.Relay.EndToEndTests.Observation;

/// <summary>
/// A TCP proxy on 127.0.0.1:0 in front of the relay that keeps, for each connection and each way, every byte after the
/// HTTP head (after the first <c>\r\n\r\n</c>): what the client sent and received once its WebSocket was open. It also
/// splits those bytes into frames (RFC 6455 §5.2, unmasking the client's) so a test can see the messages themselves.
/// </summary>
internal sealed class CountingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Uri _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<ProxiedConnection> _connections = new();
    private readonly Task _accepting;

    public CountingProxy(Uri target)
    {
        _target = target;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    public IReadOnlyCollection<ProxiedConnection> Connections => _connections;

    /// <summary>The same URL with the proxy's host and port.</summary>
    public Uri Through(Uri url) => new UriBuilder(url) { Host = "127.0.0.1", Port = Port }.Uri;

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        foreach (var connection in _connections)
        {
            connection.Abort();
        }

        try
        {
            await Task.WhenAll(_connections.Select(c => c.Completion).Append(_accepting)).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException or OperationCanceledException or IOException or TimeoutException)
        {
            // The proxy is going away with its sockets.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            client.NoDelay = true;
            try
            {
                await upstream.ConnectAsync(_target.Host, _target.Port, _stop.Token);
            }
            catch (Exception exception) when (exception is SocketException or OperationCanceledException)
            {
                client.Dispose();
                upstream.Dispose();
                continue;
            }

            _connections.Enqueue(new ProxiedConnection(client, upstream));
        }
    }
}

/// <summary>One proxied connection: the bytes after the HTTP head each way, and the frames in them.</summary>
internal sealed class ProxiedConnection
{
    private readonly Socket _client;
    private readonly Socket _upstream;
    private readonly Direction _fromClient = new();
    private readonly Direction _toClient = new();

    public ProxiedConnection(Socket client, Socket upstream)
    {
        _client = client;
        _upstream = upstream;
        Completion = Task.WhenAll(PumpAsync(client, upstream, _fromClient), PumpAsync(upstream, client, _toClient))
            .ContinueWith(_ => Close(), TaskScheduler.Default);
    }

    /// <summary>Ends when both ways have ended.</summary>
    public Task Completion { get; }

    /// <summary>The HTTP request head the client sent.</summary>
    public string RequestHead => _fromClient.Head;

    /// <summary>The HTTP response head the client got.</summary>
    public string ResponseHead => _toClient.Head;

    /// <summary>Bytes the client sent after its request head.</summary>
    public long BytesFromClient => _fromClient.Body.Length;

    /// <summary>Bytes the client received after the response head.</summary>
    public long BytesToClient => _toClient.Body.Length;

    /// <summary>Frames the client sent, payloads unmasked; only once <see cref="Completion"/> has ended.</summary>
    public IReadOnlyList<WireFrame> FramesFromClient => WireFrame.Split(_fromClient.Body.ToArray(), masked: true);

    /// <summary>Frames the client received.</summary>
    public IReadOnlyList<WireFrame> FramesToClient => WireFrame.Split(_toClient.Body.ToArray(), masked: false);

    public void Abort()
    {
        _client.Dispose();
        _upstream.Dispose();
    }

    private static async Task PumpAsync(Socket from, Socket to, Direction direction)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0)
                {
                    break;
                }

                direction.Add(buffer.AsSpan(0, read));
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // One side reset or the proxy closed: the other way ends too.
        }

        try
        {
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
    }

    private void Close()
    {
        _client.Dispose();
        _upstream.Dispose();
    }

    private sealed class Direction
    {
        private readonly MemoryStream _head = new();

        public MemoryStream Body { get; } = new();

        public string Head => Encoding.Latin1.GetString(_head.ToArray());

        private bool InBody { get; set; }

        public void Add(ReadOnlySpan<byte> data)
        {
            if (InBody)
            {
                Body.Write(data);
                return;
            }

            // Find the head's end across reads: the blank line may be cut anywhere.
            _head.Write(data);
            var all = _head.GetBuffer().AsSpan(0, (int)_head.Length);
            var end = all.IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                return;
            }

            var headLength = end + 4;
            Body.Write(all[headLength..]);
            _head.SetLength(headLength);
            InBody = true;
        }
    }
}

/// <summary>A WebSocket frame seen on the wire: its opcode, FIN, payload (unmasked) and total length with the header.</summary>
internal sealed record WireFrame(byte Opcode, bool Fin, byte[] Payload, int WireLength)
{
    /// <summary>Whole text messages, continuation frames joined.</summary>
    public static IReadOnlyList<string> TextMessages(IReadOnlyList<WireFrame> frames)
    {
        var messages = new List<string>();
        MemoryStream? current = null;
        foreach (var frame in frames)
        {
            if (frame.Opcode >= 0x8)
            {
                continue;
            }

            if (frame.Opcode == 0x1)
            {
                current = new MemoryStream();
            }

            if (frame.Opcode is 0x1 or 0x0 && current is not null)
            {
                current.Write(frame.Payload);
                if (frame.Fin)
                {
                    messages.Add(Encoding.UTF8.GetString(current.ToArray()));
                    current = null;
                }
            }
        }

        return messages;
    }

    public static IReadOnlyList<WireFrame> Split(byte[] bytes, bool masked)
    {
        var frames = new List<WireFrame>();
        var offset = 0;
        while (offset + 2 <= bytes.Length)
        {
            var start = offset;
            var length7 = bytes[offset + 1] & 0x7F;
            var isMasked = (bytes[offset + 1] & 0x80) != 0;
            Assert.Equal(masked, isMasked);
            var headerLength = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (isMasked ? 4 : 0);
            if (offset + headerLength > bytes.Length)
            {
                break;
            }

            long length = length7 switch
            {
                126 => BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(offset + 2)),
                127 => (long)BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(offset + 2)),
                _ => length7,
            };
            if (offset + headerLength + length > bytes.Length)
            {
                break;
            }

            var payload = bytes.AsSpan(offset + headerLength, (int)length).ToArray();
            if (isMasked)
            {
                var key = bytes.AsSpan(offset + headerLength - 4, 4);
                for (var i = 0; i < payload.Length; i++)
                {
                    payload[i] ^= key[i & 3];
                }
            }

            offset += headerLength + (int)length;
            frames.Add(new WireFrame((byte)(bytes[start] & 0x0F), (bytes[start] & 0x80) != 0, payload, offset - start));
        }

        Assert.True(offset == bytes.Length, $"{bytes.Length - offset} bytes after the last whole frame");
        return frames;
    }
}
