using System.Buffers;
using Bctrl.Relay.Frames;
using Bctrl.Relay.Observation;

namespace Bctrl.Relay.Splice;

/// <summary>
/// The bounded prefix of a text message whose first bytes are cut by the end of a read: its payload bytes are copied
/// here as they pass through the tracker until the prefix the sampler reads is whole. The buffer is rented only while
/// a prefix is being gathered, so an idle attach holds none.
/// </summary>
internal sealed class SamplePrefix(AttachObserver observer, bool fromClient)
{
    private byte[]? _buffer;
    private int _length;
    private int _needed;
    private FrameHeader _header;

    public bool Gathering => _buffer is not null;

    /// <summary>Starts gathering the prefix of the message that <paramref name="header"/> begins.</summary>
    public void Begin(in FrameHeader header)
    {
        _header = header;
        _needed = (int)Math.Min(observer.PrefixBytes, header.PayloadLength);
        _length = 0;
        _buffer = ArrayPool<byte>.Shared.Rent(_needed);
    }

    /// <summary>Takes payload bytes of the message's first frame as they pass; hands the prefix over once whole.</summary>
    public void Feed(ReadOnlySpan<byte> payload)
    {
        var take = Math.Min(payload.Length, _needed - _length);
        payload[..take].CopyTo(_buffer.AsSpan(_length));
        _length += take;
        if (_length < _needed)
        {
            return;
        }

        var prefix = _buffer.AsSpan(0, _length);
        var whole = _header.Fin && _length == _header.PayloadLength;
        if (fromClient)
        {
            WebSocketMask.Apply(prefix, _header.MaskKey, payloadOffset: 0);
            observer.OnClientMessage(prefix, _header.PayloadLength, whole);
        }
        else
        {
            observer.OnRuntimeMessage(prefix, _header.PayloadLength, whole, _header.Fin);

            // A capture that began on this prefix (docs/artifacts.md) is fed this read's payload next: the prefix bytes
            // of earlier reads will not come again.
            observer.Capture?.PrefixPassedEarlier(_length - take);
        }

        Release();
    }

    public void Release()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
