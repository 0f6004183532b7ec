using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Bctrl.Relay.Testing;

/// <summary>
/// A buffered reader and writer over one TCP stream, for the fake runtime and the tests' raw clients alike: HTTP heads,
/// exact byte counts and WebSocket frames, read with a bounded wait each so that a test fails instead of hanging.
/// </summary>
public sealed class FakeRuntimeWire : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public FakeRuntimeWire(Stream stream) => _stream = stream;

    /// <summary>How long one read may wait for bytes. Default 10 s.</summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Bytes read from the stream but not yet handed out.</summary>
    public int Buffered => _end - _start;

    public Stream Stream => _stream;

    /// <summary>Reads up to and including the blank line that ends an HTTP head; the bytes after it stay buffered.</summary>
    public async Task<string> ReadHeadAsync(int maxBytes = 16 * 1024)
    {
        var scanned = 0;
        while (true)
        {
            var window = _buffer.AsSpan(_start, _end - _start);
            var end = window[Math.Max(0, scanned - 3)..].IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                end += Math.Max(0, scanned - 3) + 4;
                var head = Encoding.Latin1.GetString(window[..end]);
                _start += end;
                return head;
            }

            scanned = window.Length;
            if (scanned >= maxBytes)
            {
                throw new InvalidDataException($"No end of the HTTP head within {maxBytes} bytes.");
            }

            var partial = Encoding.Latin1.GetString(window);
            if (await FillAsync() == 0)
            {
                throw new EndOfStreamException($"The stream ended inside an HTTP head after {scanned} bytes: {partial}");
            }
        }
    }

    public async Task<byte[]> ReadExactlyAsync(int count)
    {
        var bytes = new byte[count];
        await ReadExactlyAsync(bytes);
        return bytes;
    }

    public async Task ReadExactlyAsync(Memory<byte> destination)
    {
        var taken = TakeBuffered(destination.Span);
        while (taken < destination.Length)
        {
            var read = await ReadStreamAsync(destination[taken..]);
            if (read == 0)
            {
                throw new EndOfStreamException($"The stream ended after {taken} of {destination.Length} bytes.");
            }

            taken += read;
        }
    }

    /// <summary>Reads one whole frame and unmasks its payload.</summary>
    public async Task<FakeRuntimeFrame> ReadFrameAsync(long maxPayload = 64L * 1024 * 1024)
    {
        var start = await ReadExactlyAsync(2);
        var length7 = start[1] & 0x7F;
        var masked = (start[1] & 0x80) != 0;
        var extended = length7 < 126 ? 0 : length7 == 126 ? 2 : 8;
        var rest = await ReadExactlyAsync(extended + (masked ? 4 : 0));
        long length = extended switch
        {
            0 => length7,
            2 => BinaryPrimitives.ReadUInt16BigEndian(rest),
            _ => (long)BinaryPrimitives.ReadUInt64BigEndian(rest),
        };
        if (length < 0 || length > maxPayload)
        {
            throw new InvalidDataException($"A frame declares {length} payload bytes, more than the {maxPayload} this reader takes.");
        }

        var key = masked ? rest[extended..] : [];
        var payload = await ReadExactlyAsync((int)length);
        if (masked)
        {
            FakeRuntimeFrame.ApplyMask(payload, key);
        }

        return new FakeRuntimeFrame((start[0] & 0x80) != 0, (byte)((start[0] >> 4) & 0x7), (byte)(start[0] & 0x0F), masked, key, payload);
    }

    /// <summary>Reads until the peer ends the stream (a reset counts as an end); returns how many bytes came first.</summary>
    public async Task<long> ReadToEndAsync()
    {
        long total = Buffered;
        _start = _end = 0;
        try
        {
            while (true)
            {
                var read = await ReadStreamAsync(_buffer);
                if (read == 0)
                {
                    return total;
                }

                total += read;
            }
        }
        catch (IOException exception) when (exception.InnerException is SocketException)
        {
            return total;
        }
    }

    public async Task WriteAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    public ValueTask DisposeAsync() => _stream.DisposeAsync();

    private int TakeBuffered(Span<byte> destination)
    {
        var count = Math.Min(destination.Length, _end - _start);
        _buffer.AsSpan(_start, count).CopyTo(destination);
        _start += count;
        return count;
    }

    private async Task<int> FillAsync()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            throw new InvalidDataException("The read buffer is full.");
        }

        var read = await ReadStreamAsync(_buffer.AsMemory(_end));
        _end += read;
        return read;
    }

    private async Task<int> ReadStreamAsync(Memory<byte> destination)
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        try
        {
            return await _stream.ReadAsync(destination, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"Nothing arrived within {ReadTimeout.TotalSeconds} s.");
        }
    }
}
