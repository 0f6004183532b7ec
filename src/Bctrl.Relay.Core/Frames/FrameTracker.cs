namespace Bctrl.Relay.Frames;

/// <summary>
/// A header-only WebSocket frame tracker for one direction of a splice. It reads headers, skips payloads, and
/// keeps the few bytes of a header or control frame that straddle reads. It never holds a whole message.
/// A mutable struct: keep it in a field and call it by reference.
/// </summary>
internal struct FrameTracker
{
    public FrameTracker(FrameDirection direction, long maxMessageBytes) => throw new NotImplementedException();

    /// <summary>
    /// Walks <paramref name="data"/> from its start. Returns on the first event: a data-frame header completed
    /// (<paramref name="consumed"/> ends just after it), a control frame completed with its payload
    /// (<paramref name="consumed"/> ends just after its last byte), a violation (<paramref name="consumed"/> ends where
    /// the offending frame started, or 0 when it started in an earlier call), or the data ran out
    /// (<paramref name="consumed"/> = <c>data.Length</c>).
    /// </summary>
    public TrackStatus Track(ReadOnlySpan<byte> data, out int consumed) => throw new NotImplementedException();

    /// <summary>The last completed header.</summary>
    public readonly FrameHeader Header => throw new NotImplementedException();

    public readonly FrameViolation Violation => throw new NotImplementedException();

    /// <summary>No partial header or control frame is held and no payload of the current frame is left.</summary>
    public readonly bool AtFrameBoundary => throw new NotImplementedException();

    /// <summary>Raw bytes (as received) of an incomplete header or incomplete control frame held by the tracker.</summary>
    public readonly int PendingBytes => throw new NotImplementedException();

    /// <summary>Copies the pending bytes, as received, into <paramref name="destination"/>; returns how many.</summary>
    public readonly int CopyPendingTo(Span<byte> destination) => throw new NotImplementedException();

    /// <summary>Forgets the pending bytes: the tracker is back at the boundary where that frame started.</summary>
    public void ResetPending() => throw new NotImplementedException();

    /// <summary>After <see cref="TrackStatus.ControlFrame"/>: the control payload, unmasked; returns its length (≤ 125).</summary>
    public readonly int CopyControlPayload(Span<byte> destination) => throw new NotImplementedException();

    /// <summary>Payload bytes of the current data frame not yet seen.</summary>
    public readonly long PayloadRemaining => throw new NotImplementedException();

    /// <summary>Between the first and the last frame of a fragmented data message.</summary>
    public readonly bool InMessage => throw new NotImplementedException();

    /// <summary>Frames completed so far (data and control).</summary>
    public readonly long Frames => throw new NotImplementedException();

    /// <summary>Data messages completed so far (the frame with FIN set ended them).</summary>
    public readonly long Messages => throw new NotImplementedException();
}
