using System.Runtime.CompilerServices;

namespace Bctrl.Relay.Frames;

/// <summary>
/// A header-only WebSocket frame tracker for one direction of a splice. It reads headers, skips payloads, and
/// keeps the few bytes of a header or control frame that straddle reads. It never holds a whole message.
/// A mutable struct: keep it in a field and call it by reference.
/// </summary>
/// <remarks>
/// <para>
/// State only moves when a header completes (and, for a control frame, when its payload completes too), so the bytes
/// of a frame still in flight can be dropped with <see cref="ResetPending"/> without undoing anything.
/// A data frame's payload is never read: it is skipped by count (<see cref="PayloadRemaining"/>).
/// </para>
/// <para>
/// Counting: a data frame counts in <see cref="Frames"/> once its last payload byte has been seen (at once when its
/// payload is empty), and its message counts in <see cref="Messages"/> at the same moment when it carries FIN.
/// A control frame counts when its last byte has been seen, i.e. when <see cref="TrackStatus.ControlFrame"/> is reported.
/// </para>
/// <para>
/// A header is validated once it is whole, and a close frame's body once the frame is whole, so a frame gets the same
/// verdict however the stream is cut.
/// After a violation the tracker is dead: every later call reports <see cref="TrackStatus.Violation"/> again, and
/// nothing is pending (the bytes of the offending header are not kept).
/// </para>
/// </remarks>
internal partial struct FrameTracker
{
    private readonly FrameDirection _direction;
    private readonly long _maxMessageBytes;

    private FrameHeader _header;
    private FrameViolation _violation;

    // Message-level state (RFC 6455 §5.4): whether a fragmented data message is open and its payload so far.
    private bool _inMessage;
    private long _messageBytes;

    // Set when a close frame completes: the sender may send nothing after it (RFC 6455 §5.5.1).
    private bool _closeSeen;

    private long _payloadRemaining;
    private long _frames;
    private long _messages;

    // All instance fields live in this file: a partial struct with fields in several parts has no defined layout (CS0282).
    // Bytes of a frame in flight, as received: a header cut by a read, or a control frame not yet whole.
    // Inline so the tracker never allocates. A control frame is at most 6 + 125 bytes now that lengths must be minimal
    // (§5.2), but a header is only known to be a control frame's once its opcode is read, and the buffer keeps room for
    // the largest header (14) plus 125. A data frame only ever has its header here.
    private PendingBuffer _pending;
    private byte _pendingLength;

    // The payload of the last completed control frame, unmasked.
    private ControlPayloadBuffer _control;
    private byte _controlLength;

    public FrameTracker(FrameDirection direction, long maxMessageBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxMessageBytes);
        _direction = direction;
        _maxMessageBytes = maxMessageBytes;
    }

    /// <summary>
    /// Walks <paramref name="data"/> from its start. Returns on the first event: a data-frame header completed
    /// (<paramref name="consumed"/> ends just after it), a control frame completed with its payload
    /// (<paramref name="consumed"/> ends just after its last byte), a violation (<paramref name="consumed"/> ends where
    /// the offending frame started, or 0 when it started in an earlier call), or the data ran out
    /// (<paramref name="consumed"/> = <c>data.Length</c>).
    /// </summary>
    public TrackStatus Track(ReadOnlySpan<byte> data, out int consumed)
    {
        if (_violation != FrameViolation.None)
        {
            consumed = 0;
            return TrackStatus.Violation;
        }

        if (_closeSeen)
        {
            // §5.5.1: nothing may follow a close, so one byte is enough to tell. Nothing is pending: a close is whole.
            return data.IsEmpty ? NeedMoreData(data, out consumed) : Fail(FrameViolation.DataAfterClose, 0, out consumed);
        }

        if (_pendingLength != 0)
        {
            return TrackPending(data, 0, out consumed);
        }

        // Payload of the current data frame: skipped by count, never read.
        var position = 0;
        if (_payloadRemaining != 0)
        {
            if (_payloadRemaining > data.Length)
            {
                _payloadRemaining -= data.Length;
                consumed = data.Length;
                return TrackStatus.NeedMoreData;
            }

            position = (int)_payloadRemaining;
            _payloadRemaining = 0;
            CompleteDataFrame();
        }

        // Fast path: the whole header (and, for a control frame, its payload) lies in this span.
        ReadOnlySpan<byte> rest = data.Slice(position);
        if (rest.Length < 2)
        {
            return rest.IsEmpty ? NeedMoreData(data, out consumed) : TrackPending(data, position, out consumed);
        }

        var headerLength = HeaderLength(rest[1]);
        if (rest.Length < headerLength)
        {
            return TrackPending(data, position, out consumed);
        }

        FrameViolation violation = ReadHeader(rest.Slice(0, headerLength), out FrameHeader header);
        if (violation != FrameViolation.None)
        {
            return Fail(violation, position, out consumed);
        }

        if (!header.IsControl)
        {
            BeginDataFrame(header);
            consumed = position + headerLength;
            return TrackStatus.DataFrameHeader;
        }

        // A control payload is at most 125 bytes (checked above), so the int cast cannot truncate.
        var frameLength = headerLength + (int)header.PayloadLength;
        if (rest.Length < frameLength)
        {
            return TrackPending(data, position, out consumed);
        }

        violation = CompleteControlFrame(header, rest.Slice(headerLength, frameLength - headerLength));
        if (violation != FrameViolation.None)
        {
            return Fail(violation, position, out consumed);
        }

        consumed = position + frameLength;
        return TrackStatus.ControlFrame;
    }

    /// <summary>The last completed header.</summary>
    public readonly FrameHeader Header => _header;

    public readonly FrameViolation Violation => _violation;

    /// <summary>No partial header or control frame is held and no payload of the current frame is left.</summary>
    public readonly bool AtFrameBoundary => _pendingLength == 0 && _payloadRemaining == 0;

    /// <summary>A whole, valid close frame has gone by in this direction; any further byte is a violation (§5.5.1).</summary>
    public readonly bool CloseSeen => _closeSeen;

    /// <summary>Payload bytes of the current data frame not yet seen.</summary>
    public readonly long PayloadRemaining => _payloadRemaining;

    /// <summary>Between the first and the last frame of a fragmented data message.</summary>
    public readonly bool InMessage => _inMessage;

    /// <summary>Frames completed so far (data and control).</summary>
    public readonly long Frames => _frames;

    /// <summary>Data messages completed so far (the frame with FIN set ended them).</summary>
    public readonly long Messages => _messages;

    private void BeginDataFrame(in FrameHeader header)
    {
        _header = header;
        _messageBytes = header.Opcode == WebSocketOpcode.Continuation
            ? _messageBytes + header.PayloadLength
            : header.PayloadLength;
        _inMessage = !header.Fin;
        _payloadRemaining = header.PayloadLength;
        if (_payloadRemaining == 0)
        {
            CompleteDataFrame();
        }
    }

    // Called when the last payload byte of the data frame in _header has gone by; no control frame can have
    // replaced _header meanwhile, because control frames never interleave with a frame's payload (RFC 6455 §5.4).
    private void CompleteDataFrame()
    {
        _frames++;
        if (_header.Fin)
        {
            _messages++;
        }
    }

    private static TrackStatus NeedMoreData(ReadOnlySpan<byte> data, out int consumed)
    {
        consumed = data.Length;
        return TrackStatus.NeedMoreData;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private TrackStatus Fail(FrameViolation violation, int frameStart, out int consumed)
    {
        // Dead from here on: nothing held is worth replaying once the stream is known to be broken.
        _violation = violation;
        _pendingLength = 0;
        consumed = frameStart;
        return TrackStatus.Violation;
    }
}
