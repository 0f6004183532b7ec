using System.Buffers;
using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Artifacts;

/// <summary>
/// Copies one runtime message at a time off an attach's splice, whole, for the artifact pump: the sampler decides from
/// the message's prefix that it holds an artifact (<see cref="Begin"/>), then the runtime pump hands over its payload
/// bytes as they pass (<see cref="Feed"/>), across reads and frames, and at the message's end the copy goes to the sink.
/// The forwarded bytes are never held back or touched: the copy is the only cost, paid only by a lease that asked for
/// artifacts, only for the messages that carry one. Used on the runtime pump's thread only.
/// </summary>
internal sealed class ArtifactCapture(IArtifactSink sink, ArtifactSettings settings)
{
    private const int FirstGuess = 64 * 1024;

    private CapturedMessage? _message;
    private byte[]? _buffer;
    private int _length;

    // Room reserved in the sink's bound for the buffer (its requested size, not the pool's rounding).
    private long _reserved;

    // Payload bytes still to come that the copy holds already (the prefix it began with).
    private long _skip;
    private bool _fresh;
    private bool _finalFrame;
    private long _nextFrameAt;

    public bool Active => _buffer is not null;

    /// <summary>The attach's PDFs handed over as streams.</summary>
    public PdfStreams Streams { get; } = new();

    /// <summary>
    /// Whether a screencast frame seen at <paramref name="timestamp"/> (<see cref="TimeProvider.GetTimestamp"/>) is taken:
    /// one per interval, the first at once.
    /// </summary>
    public bool ScreencastFrameDue(long timestamp, long timestampFrequency)
    {
        if (settings.ScreencastFrameInterval <= TimeSpan.Zero || timestamp < _nextFrameAt)
        {
            return false;
        }

        _nextFrameAt = timestamp + (long)(settings.ScreencastFrameInterval.TotalSeconds * timestampFrequency);
        return true;
    }

    /// <summary>
    /// Starts copying the message whose first frame begins with <paramref name="prefix"/> (the bytes the sampler read);
    /// the payload fed next starts at the prefix's first byte. A first frame over the cap is lost at once.
    /// </summary>
    public void Begin(CapturedMessage message, ReadOnlySpan<byte> prefix, long firstFrameLength, bool finalFrame)
    {
        if (firstFrameLength > settings.MaxMessageBytes)
        {
            sink.CountLost(ArtifactLoss.TooLarge);
            return;
        }

        if (_buffer is not null)
        {
            return; // cannot happen: a new message's header abandons a copy still in progress (OnFrameIfActive)
        }

        // A single-frame message says its size; a fragmented one grows as it comes.
        var size = Math.Max(1, finalFrame ? (int)firstFrameLength : Math.Max(prefix.Length, Math.Min(FirstGuess, settings.MaxMessageBytes)));
        if (!sink.TryReserve(size))
        {
            return;
        }

        _reserved = size;
        _buffer = ArrayPool<byte>.Shared.Rent(size);
        prefix.CopyTo(_buffer);
        _length = prefix.Length;
        _skip = prefix.Length;
        _fresh = true;
        _finalFrame = finalFrame;
        _message = message;
    }

    /// <summary>
    /// The prefix <see cref="Begin"/> took was gathered across reads: <paramref name="count"/> of its bytes passed in
    /// earlier ones and will not be fed again.
    /// </summary>
    public void PrefixPassedEarlier(int count)
    {
        if (_fresh)
        {
            _skip -= count;
        }
    }

    /// <summary>
    /// A data frame's header passed: while a copy is in progress it is the message's next frame (a continuation; frames
    /// of two messages never interleave, RFC 6455 §5.4). The first frame's header comes before <see cref="Begin"/>.
    /// </summary>
    public void OnFrameIfActive(in FrameHeader header)
    {
        if (_buffer is null)
        {
            return;
        }

        if (header.Opcode != WebSocketOpcode.Continuation)
        {
            Abandon(); // a new message: the copy missed its own end, so it is no artifact (never a mix of two messages)
            return;
        }

        _finalFrame = header.Fin;
        if (header.Fin && header.PayloadLength == 0)
        {
            Complete();
        }
    }

    /// <summary>Payload bytes of the message as they pass; <paramref name="frameEnds"/> when they end their frame.</summary>
    public void Feed(ReadOnlySpan<byte> payload, bool frameEnds)
    {
        _fresh = false;
        if (_skip > 0)
        {
            var skipped = (int)Math.Min(_skip, payload.Length);
            payload = payload[skipped..];
            _skip -= skipped;
        }

        if (!payload.IsEmpty)
        {
            if (_length + (long)payload.Length > settings.MaxMessageBytes)
            {
                Abandon();
                sink.CountLost(ArtifactLoss.TooLarge);
                return;
            }

            if (_length + payload.Length > _buffer!.Length && !Grow(_length + payload.Length))
            {
                return;
            }

            payload.CopyTo(_buffer.AsSpan(_length));
            _length += payload.Length;
        }

        if (frameEnds && _finalFrame)
        {
            Complete();
        }
    }

    /// <summary>Drops a copy in progress (the attach ended in the middle of the message).</summary>
    public void Abandon()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            _message = null;
            ArrayPool<byte>.Shared.Return(buffer);
            sink.Unreserve(_reserved);
            _reserved = 0;
        }
    }

    /// <summary>A larger buffer for a fragmented message, if the sink has room for it; else the copy is dropped (counted).</summary>
    private bool Grow(int needed)
    {
        var size = (int)Math.Min(Math.Max(needed, (long)_buffer!.Length * 2), settings.MaxMessageBytes);
        if (!sink.TryReserve(size - _reserved))
        {
            Abandon();
            return false;
        }

        _reserved = size;
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
        return true;
    }

    private void Complete()
    {
        var message = _message!;
        message.Buffer = _buffer!;
        message.Length = _length;
        message.Reserved = _reserved;
        _buffer = null;
        _message = null;
        _reserved = 0;
        if (!sink.TryTake(message))
        {
            sink.Unreserve(message.Reserved);
            message.Release();
        }
    }
}
