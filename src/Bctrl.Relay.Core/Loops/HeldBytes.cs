using System.Buffers;

namespace Bctrl.Relay.Loops;

/// <summary>
/// Bytes a loop splice read for a peer that is not reading now (issue 9): rented when a send first falls short,
/// returned as soon as the peer has taken them all, so an attach whose peers read holds no buffer. Bounded by what
/// one read brings: the splice reads nothing more from the sender while bytes are held for its receiver.
/// A mutable struct, kept in a field and used by reference.
/// </summary>
internal struct HeldBytes
{
    private byte[]? _buffer;
    private int _start;
    private int _end;

    public readonly bool IsEmpty => _start == _end;

    public readonly int Count => _end - _start;

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        if (_buffer is null)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(data.Length, 4096));
            _start = _end = 0;
        }
        else if (_buffer.Length - _end < data.Length)
        {
            var count = Count;
            var target = count + data.Length <= _buffer.Length ? _buffer : ArrayPool<byte>.Shared.Rent(count + data.Length);
            _buffer.AsSpan(_start, count).CopyTo(target);
            if (!ReferenceEquals(target, _buffer))
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = target;
            }

            _start = 0;
            _end = count;
        }

        data.CopyTo(_buffer.AsSpan(_end));
        _end += data.Length;
    }

    /// <summary>Sends what is held: 0 when all of it went (the buffer is returned), the count left when the peer's window is full, or -errno.</summary>
    public int SendTo(int fd)
    {
        while (!IsEmpty)
        {
            var sent = LinuxSockets.Send(fd, _buffer.AsSpan(_start, Count));
            if (sent < 0)
            {
                return LinuxSockets.WouldBlock(sent) ? Count : sent;
            }

            _start += sent;
        }

        Release();
        return 0;
    }

    public void Release()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            _start = _end = 0;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
