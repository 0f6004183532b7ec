using System.Runtime.CompilerServices;

namespace Bctrl.Relay.Frames;

internal partial struct FrameTracker
{
    /// <summary>Raw bytes (as received) of an incomplete header or incomplete control frame held by the tracker.</summary>
    public readonly int PendingBytes => _pendingLength;

    /// <summary>Copies the pending bytes, as received, into <paramref name="destination"/>; returns how many.</summary>
    public readonly int CopyPendingTo(Span<byte> destination)
    {
        ReadOnlySpan<byte> pending = _pending;
        pending.Slice(0, _pendingLength).CopyTo(destination);
        return _pendingLength;
    }

    /// <summary>Forgets the pending bytes: the tracker is back at the boundary where that frame started.</summary>
    /// <remarks>Nothing else needs undoing: state only moves when a header (or a whole control frame) completes.
    /// Inside a data payload nothing is pending and this does nothing.</remarks>
    public void ResetPending() => _pendingLength = 0;

    /// <summary>After <see cref="TrackStatus.ControlFrame"/>: the control payload, unmasked; returns its length (≤ 125).</summary>
    public readonly int CopyControlPayload(Span<byte> destination)
    {
        ReadOnlySpan<byte> control = _control;
        control.Slice(0, _controlLength).CopyTo(destination);
        return _controlLength;
    }

    /// <summary>Unmasks a whole control frame's payload and, for a close, validates its body; state moves only when it is valid.</summary>
    private FrameViolation CompleteControlFrame(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Span<byte> control = _control;
        control = control.Slice(0, payload.Length);
        payload.CopyTo(control);
        if (header.Masked)
        {
            WebSocketMask.Apply(control, header.MaskKey, 0);
        }

        if (header.Opcode == WebSocketOpcode.Close)
        {
            FrameViolation violation = CheckCloseBody(control);
            if (violation != FrameViolation.None)
            {
                return violation;
            }

            _closeSeen = true;
        }

        _header = header;
        _controlLength = (byte)payload.Length;
        _frames++;
        return FrameViolation.None;
    }

    /// <summary>
    /// The slow path: the frame starting at <paramref name="position"/> (or held from earlier calls) does not lie
    /// whole in <paramref name="data"/>. Collects its bytes into the pending buffer, then parses them from there
    /// exactly as the fast path parses them in place.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private TrackStatus TrackPending(ReadOnlySpan<byte> data, int position, out int consumed)
    {
        // Where a violation points: the frame's first byte, or 0 when it began in an earlier call (then bytes are
        // held and Track passes position 0).
        var frameStart = position;

        position += Hold(data.Slice(position), 2);
        if (_pendingLength < 2)
        {
            return NeedMoreData(data, out consumed);
        }

        ReadOnlySpan<byte> held = _pending;
        var headerLength = HeaderLength(held[1]);
        position += Hold(data.Slice(position), headerLength);
        if (_pendingLength < headerLength)
        {
            return NeedMoreData(data, out consumed);
        }

        // Parsed again on every call while a control payload trickles in: at most 14 bytes, and no state moved
        // since the first time, so the verdict cannot change.
        FrameViolation violation = ReadHeader(held.Slice(0, headerLength), out FrameHeader header);
        if (violation != FrameViolation.None)
        {
            return Fail(violation, frameStart, out consumed);
        }

        if (!header.IsControl)
        {
            _pendingLength = 0;
            BeginDataFrame(header);
            consumed = position;
            return TrackStatus.DataFrameHeader;
        }

        var frameLength = headerLength + (int)header.PayloadLength;
        position += Hold(data.Slice(position), frameLength);
        if (_pendingLength < frameLength)
        {
            return NeedMoreData(data, out consumed);
        }

        _pendingLength = 0;
        violation = CompleteControlFrame(header, held.Slice(headerLength, frameLength - headerLength));
        if (violation != FrameViolation.None)
        {
            return Fail(violation, frameStart, out consumed);
        }

        consumed = position;
        return TrackStatus.ControlFrame;
    }

    /// <summary>Moves bytes from <paramref name="source"/> into the pending buffer until it holds <paramref name="target"/>; returns how many moved.</summary>
    private int Hold(ReadOnlySpan<byte> source, int target)
    {
        var count = Math.Min(target - _pendingLength, source.Length);
        if (count <= 0)
        {
            return 0;
        }

        Span<byte> pending = _pending;
        source.Slice(0, count).CopyTo(pending.Slice(_pendingLength));
        _pendingLength += (byte)count;
        return count;
    }

    [InlineArray(MaxHeaderLength + MaxControlPayload)]
    private struct PendingBuffer
    {
        private byte _element;
    }

    [InlineArray(MaxControlPayload)]
    private struct ControlPayloadBuffer
    {
        private byte _element;
    }
}
