using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Tests.Frames;

public abstract partial class FrameTrackerTests
{
    private const long SmallLimit = 100;

    public static TheoryData<string> Violations => new()
    {
        "rsv1", "rsv2", "rsv3", "opcode-3", "opcode-7", "opcode-b", "opcode-f",
        "ping-too-long-16", "close-too-long-64", "ping-fragmented", "pong-fragmented-in-message",
        "mask-mismatch", "length-top-bit", "length-all-ones", "continuation-first", "continuation-after-message",
        "text-in-message", "binary-in-message-after-control", "close-one-byte",
        "too-big-one-frame", "too-big-fragments", "too-big-huge-continuation", "first-rule-wins",
        "close-code-0", "close-code-999", "close-code-1004", "close-code-1005", "close-code-1006", "close-code-1015",
        "close-code-1016", "close-code-2999", "close-code-5000", "close-code-65535", "close-bad-code-and-bad-reason",
        "close-reason-ff", "close-reason-truncated", "close-reason-surrogate", "close-reason-overlong", "close-reason-at-limit",
        "non-minimal-16-data", "non-minimal-16-empty-ping", "non-minimal-64-data", "non-minimal-64-close", "non-minimal-before-control-length",
        "data-after-close", "data-after-empty-close", "continuation-after-close", "pong-after-close-byte",
    };

    /// <summary><see cref="BadHeaderLength"/>: how many bytes from <see cref="BadStart"/> the verdict needs.</summary>
    private sealed record ViolationCase(byte[] Stream, IReadOnlyList<BuiltFrame> Before, int BadStart, int BadHeaderLength, FrameViolation Violation);

    /// <summary>A close body (RFC 6455 §5.5.1): the code big-endian, then the reason in UTF-8.</summary>
    private static byte[] ClosePayload(ushort code, string reason)
    {
        var payload = new byte[2 + System.Text.Encoding.UTF8.GetByteCount(reason)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(payload, code);
        System.Text.Encoding.UTF8.GetBytes(reason, payload.AsSpan(2));
        return payload;
    }

    private ViolationCase BuildViolation(string name)
    {
        FrameStreamBuilder b = NewStream();

        // A valid prefix, so the offending frame does not start at 0.
        b.Add(WebSocketOpcode.Text, 3).Add(WebSocketOpcode.Ping, 2);
        byte[] bad;
        FrameViolation violation;

        // How many bytes of the bad part the tracker needs before it can tell: a header, a whole close frame, or one
        // byte after a close.
        int? detect = null;
        if (name.StartsWith("close-code-", StringComparison.Ordinal))
        {
            bad = BadClose(ClosePayload(ushort.Parse(name["close-code-".Length..], System.Globalization.CultureInfo.InvariantCulture), "r"));
            violation = FrameViolation.InvalidCloseCode;
            name = "handled";
        }
        else
        {
            bad = [];
            violation = FrameViolation.None;
        }

        switch (name)
        {
            case "handled":
                break;
            case "close-bad-code-and-bad-reason":
                // The code is checked before the reason.
                bad = BadClose([0x03, 0xED, 0xFF]);
                violation = FrameViolation.InvalidCloseCode;
                break;
            case "close-reason-ff":
                bad = BadClose([0x03, 0xE8, 0x61, 0xFF]);
                violation = FrameViolation.InvalidCloseReason;
                break;
            case "close-reason-truncated":
                // "✓" is E2 9C 93: cut after two bytes.
                bad = BadClose([0x03, 0xE8, 0x6F, 0x6B, 0xE2, 0x9C]);
                violation = FrameViolation.InvalidCloseReason;
                break;
            case "close-reason-surrogate":
                // U+D800 encoded as UTF-8 is not UTF-8 (RFC 3629 §3).
                bad = BadClose([0x0F, 0xA0, 0xED, 0xA0, 0x80]);
                violation = FrameViolation.InvalidCloseReason;
                break;
            case "close-reason-overlong":
                bad = BadClose([0x13, 0x87, 0xC0, 0xAF]);
                violation = FrameViolation.InvalidCloseReason;
                break;
            case "close-reason-at-limit":
                // 125 bytes: the code, 122 valid bytes and one bad one at the very end.
                bad = BadClose([.. ClosePayload(1000, new string('a', 122)), 0x80]);
                violation = FrameViolation.InvalidCloseReason;
                break;
            case "non-minimal-16-data":
                bad = Bad(true, 0x1, 125, LengthForm.Bits16);
                violation = FrameViolation.NonMinimalLength;
                break;
            case "non-minimal-16-empty-ping":
                bad = Bad(true, 0x9, 0, LengthForm.Bits16);
                violation = FrameViolation.NonMinimalLength;
                break;
            case "non-minimal-64-data":
                bad = Bad(true, 0x2, 65535, LengthForm.Bits64);
                violation = FrameViolation.NonMinimalLength;
                break;
            case "non-minimal-64-close":
                bad = Bad(true, 0x8, 2, LengthForm.Bits64);
                violation = FrameViolation.NonMinimalLength;
                break;
            case "non-minimal-before-control-length":
                // A ping of 200 bytes in the 64-bit form breaks two rules; the length encoding is checked first.
                bad = Bad(true, 0x9, 200, LengthForm.Bits64);
                violation = FrameViolation.NonMinimalLength;
                break;
            case "data-after-close":
                b.Add(WebSocketOpcode.Close, ClosePayload(1000, "bye"));
                bad = Bad(true, 0x9, 2);
                violation = FrameViolation.DataAfterClose;
                detect = 1;
                break;
            case "data-after-empty-close":
                b.Add(WebSocketOpcode.Close, 0);
                bad = Bad(true, 0x1, 3);
                violation = FrameViolation.DataAfterClose;
                detect = 1;
                break;
            case "continuation-after-close":
                // A message left open by the close is not finished after it either.
                b.Add(WebSocketOpcode.Text, 4, fin: false).Add(WebSocketOpcode.Close, ClosePayload(1001, ""));
                bad = Bad(true, 0x0, 3);
                violation = FrameViolation.DataAfterClose;
                detect = 1;
                break;
            case "pong-after-close-byte":
                // One byte is enough to tell.
                b.Add(WebSocketOpcode.Close, ClosePayload(4000, "x"));
                bad = [0x8A];
                violation = FrameViolation.DataAfterClose;
                detect = 1;
                break;
            case "rsv1":
            case "rsv2":
            case "rsv3":
                bad = Bad(true, 0x1, 3, rsv: 1 << ('3' - name[3]));
                violation = FrameViolation.ReservedBits;
                break;
            case "opcode-3":
            case "opcode-7":
            case "opcode-b":
            case "opcode-f":
                bad = Bad(true, Convert.ToInt32(name[^1..], 16), 3);
                violation = FrameViolation.UnknownOpcode;
                break;
            case "ping-too-long-16":
                bad = Bad(true, 0x9, 126, LengthForm.Bits16);
                violation = FrameViolation.ControlFrameTooLong;
                break;
            case "close-too-long-64":
                bad = Bad(true, 0x8, 65536, LengthForm.Bits64);
                violation = FrameViolation.ControlFrameTooLong;
                break;
            case "ping-fragmented":
                bad = Bad(false, 0x9, 3);
                violation = FrameViolation.ControlFrameFragmented;
                break;
            case "pong-fragmented-in-message":
                b.Add(WebSocketOpcode.Binary, 5, fin: false);
                bad = Bad(false, 0xA, 0);
                violation = FrameViolation.ControlFrameFragmented;
                break;
            case "mask-mismatch":
                bad = FrameStreamBuilder.Header(true, 0x1, !Masked, 3, LengthForm.Minimal, 0, b.NextKey());
                violation = FrameViolation.MaskBitMismatch;
                break;
            case "length-top-bit":
                bad = Bad(true, 0x2, 0x8000_0000_0000_0000, LengthForm.Bits64);
                violation = FrameViolation.LengthTopBit;
                break;
            case "length-all-ones":
                bad = Bad(true, 0x2, ulong.MaxValue, LengthForm.Bits64);
                violation = FrameViolation.LengthTopBit;
                break;
            case "continuation-first":
                bad = Bad(true, 0x0, 3);
                violation = FrameViolation.UnexpectedContinuation;
                break;
            case "continuation-after-message":
                b.Add(WebSocketOpcode.Text, 2, fin: false).Add(WebSocketOpcode.Continuation, 2);
                bad = Bad(false, 0x0, 3);
                violation = FrameViolation.UnexpectedContinuation;
                break;
            case "text-in-message":
                b.Add(WebSocketOpcode.Binary, 4, fin: false);
                bad = Bad(true, 0x1, 3);
                violation = FrameViolation.ExpectedContinuation;
                break;
            case "binary-in-message-after-control":
                b.Add(WebSocketOpcode.Text, 4, fin: false).Add(WebSocketOpcode.Continuation, 1, fin: false).Add(WebSocketOpcode.Pong, 2);
                bad = Bad(true, 0x2, 300);
                violation = FrameViolation.ExpectedContinuation;
                break;
            case "close-one-byte":
                bad = Bad(true, 0x8, 1);
                violation = FrameViolation.InvalidClosePayload;
                break;
            case "too-big-one-frame":
                // Exactly the limit passes; the next message starts from zero again.
                b.Add(WebSocketOpcode.Binary, (int)SmallLimit).Add(WebSocketOpcode.Text, (int)SmallLimit);
                bad = Bad(true, 0x2, SmallLimit + 1);
                violation = FrameViolation.MessageTooBig;
                break;
            case "too-big-fragments":
                b.Add(WebSocketOpcode.Text, 60, fin: false)
                    .Add(WebSocketOpcode.Ping, 5)
                    .Add(WebSocketOpcode.Continuation, 0, fin: false)
                    .Add(WebSocketOpcode.Continuation, 40, fin: false);
                bad = Bad(true, 0x0, 1);
                violation = FrameViolation.MessageTooBig;
                break;
            case "too-big-huge-continuation":
                // The largest legal length must not overflow the running total.
                b.Add(WebSocketOpcode.Binary, 50, fin: false);
                bad = Bad(true, 0x0, long.MaxValue, LengthForm.Bits64);
                violation = FrameViolation.MessageTooBig;
                break;
            case "first-rule-wins":
                // Reserved bits, an unknown opcode and the wrong mask bit at once: checks run in a fixed order.
                bad = FrameStreamBuilder.Header(false, 0xB, !Masked, 200, LengthForm.Minimal, 7, b.NextKey());
                violation = FrameViolation.ReservedBits;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, null);
        }

        var before = b.Frames.ToList();
        var badStart = b.Length;
        b.AddRaw(bad);

        // Payload bytes, then a valid frame after it: none of it may be reported.
        b.AddRaw(FrameStreamBuilder.Pattern(3, 9));
        b.Add(WebSocketOpcode.Binary, 2);
        return new ViolationCase(b.ToArray(), before, badStart, detect ?? bad.Length, violation);

        // A whole close frame with this payload, masked for the client direction.
        byte[] BadClose(byte[] payload)
        {
            var key = b.NextKey();
            var wire = (byte[])payload.Clone();
            if (Masked)
            {
                FrameStreamBuilder.NaiveMask(wire, key, 0);
            }

            return [.. FrameStreamBuilder.Header(true, 0x8, Masked, (ulong)payload.Length, LengthForm.Minimal, 0, key), .. wire];
        }

        byte[] Bad(bool fin, int opcode, ulong length, LengthForm form = LengthForm.Minimal, int rsv = 0)
            => FrameStreamBuilder.Header(fin, opcode, Masked, length, form, rsv, b.NextKey());
    }

    [Theory]
    [MemberData(nameof(Violations))]
    public void Violation_is_reported_where_the_bad_frame_starts(string name)
    {
        ViolationCase c = BuildViolation(name);
        FrameTracker tracker = NewTracker(SmallLimit);

        FeedResult result = TrackerFeed.Whole(ref tracker, c.Stream);

        AssertViolation(c, result, ref tracker, "whole");
        ViolationReport report = result.Violation!.Value;
        Assert.Equal(c.BadStart, report.SpanStart + report.Consumed);
        Assert.Equal(c.Stream.Length, report.SpanEnd);
    }

    [Theory]
    [MemberData(nameof(Violations))]
    public void Violation_is_reported_at_every_split_point(string name)
    {
        ViolationCase c = BuildViolation(name);
        var cut = new int[1];
        for (var i = 0; i <= c.Stream.Length; i++)
        {
            cut[0] = i;
            FrameTracker tracker = NewTracker(SmallLimit);
            FeedResult result = TrackerFeed.Cut(ref tracker, c.Stream, cut);
            AssertViolation(c, result, ref tracker, $"cut at {i}");
        }

        FrameTracker bytewise = NewTracker(SmallLimit);
        FeedResult oneByte = TrackerFeed.ByteAtATime(ref bytewise, c.Stream);
        AssertViolation(c, oneByte, ref bytewise, "one byte at a time");

        // Header cut one byte before its end: the bad frame started in the earlier call.
        Assert.Equal(0, oneByte.Violation!.Value.Consumed);
    }

    private static void AssertViolation(ViolationCase c, FeedResult result, ref FrameTracker tracker, string context)
    {
        List<TrackerEvent> before = TrackerFeed.Expected(c.Before, 0);
        before.RemoveAt(before.Count - 1);
        Assert.True(before.SequenceEqual(result.Events), $"{context}: events before the violation differ.");

        ViolationReport report = Assert.IsType<ViolationReport>(result.Violation);
        Assert.Equal(c.Violation, report.Violation);
        Assert.Equal(c.Violation, tracker.Violation);

        // Found in the read that completed the header, pointing at the frame's first byte when that read has it.
        var headerLast = c.BadStart + c.BadHeaderLength - 1;
        Assert.True(report.SpanStart <= headerLast && headerLast < report.SpanEnd, $"{context}: reported in [{report.SpanStart},{report.SpanEnd}).");
        var expectedConsumed = c.BadStart >= report.SpanStart ? c.BadStart - report.SpanStart : 0;
        Assert.True(expectedConsumed == report.Consumed, $"{context}: consumed {report.Consumed}, expected {expectedConsumed}.");

        // Dead from then on, whatever comes.
        Assert.Equal(TrackStatus.Violation, tracker.Track(c.Stream.AsSpan(report.SpanEnd), out var consumed));
        Assert.Equal(0, consumed);
        Assert.Equal(TrackStatus.Violation, tracker.Track([], out _));
        Assert.Equal(c.Violation, tracker.Violation);
    }

    [Fact]
    public void Message_exactly_at_the_limit_passes_across_fragments()
    {
        FrameStreamBuilder b = NewStream()
            .Add(WebSocketOpcode.Binary, (int)SmallLimit)
            .Add(WebSocketOpcode.Text, 30, fin: false)
            .Add(WebSocketOpcode.Ping, 125)
            .Add(WebSocketOpcode.Continuation, 0, fin: false)
            .Add(WebSocketOpcode.Continuation, 70, fin: false)
            .Add(WebSocketOpcode.Continuation, 0)
            .Add(WebSocketOpcode.Binary, 99, fin: false)
            .Add(WebSocketOpcode.Continuation, 1);
        var stream = b.ToArray();
        FrameTracker whole = NewTracker(SmallLimit);
        FrameTracker bytewise = NewTracker(SmallLimit);

        FeedResult wholeResult = TrackerFeed.Whole(ref whole, stream);
        FeedResult bytewiseResult = TrackerFeed.ByteAtATime(ref bytewise, stream);

        Assert.Null(wholeResult.Violation);
        Assert.Equal(TrackerFeed.Expected(b.Frames, stream.Length), wholeResult.Events);
        Assert.Equal(wholeResult.Events, bytewiseResult.Events);
        Assert.Equal(3, whole.Messages);
    }

    [Fact]
    public void Message_one_byte_over_the_limit_fails_at_the_fragment_that_crosses_it()
    {
        FrameStreamBuilder b = NewStream()
            .Add(WebSocketOpcode.Text, 30, fin: false)
            .Add(WebSocketOpcode.Ping, 125)
            .Add(WebSocketOpcode.Continuation, 70, fin: false);
        var crossing = b.Length;
        b.Add(WebSocketOpcode.Continuation, 1);
        FrameTracker tracker = NewTracker(SmallLimit);

        FeedResult result = TrackerFeed.Whole(ref tracker, b.ToArray());

        ViolationReport report = Assert.IsType<ViolationReport>(result.Violation);
        Assert.Equal(FrameViolation.MessageTooBig, report.Violation);
        Assert.Equal(crossing, report.SpanStart + report.Consumed);
        Assert.Equal(3, result.Events.Count);
    }
}
