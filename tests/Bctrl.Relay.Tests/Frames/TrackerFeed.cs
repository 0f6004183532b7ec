using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Tests.Frames;

/// <summary>
/// What a tracker reported at one event, with the state it showed then. <see cref="Position"/> is where the event
/// left the stream (absolute), so the same stream cut differently must give equal lists.
/// </summary>
internal readonly record struct TrackerEvent(
    TrackStatus Status,
    long Position,
    FrameHeader Header,
    string ControlPayload,
    long PayloadRemaining,
    long Frames,
    long Messages,
    bool InMessage)
{
    public override string ToString()
        => $"{Status}@{Position} {Header.Opcode} fin={Header.Fin} len={Header.PayloadLength} hdr={Header.HeaderLength} "
            + $"key={Header.MaskKey:X8} ctl=[{ControlPayload}] rem={PayloadRemaining} frames={Frames} msgs={Messages} inMsg={InMessage}";
}

/// <summary>Where a violation was reported: the span given to <see cref="FrameTracker.Track"/> and the consumed offset.</summary>
internal readonly record struct ViolationReport(FrameViolation Violation, int SpanStart, int SpanEnd, int Consumed);

internal sealed record FeedResult(List<TrackerEvent> Events, ViolationReport? Violation);

/// <summary>Feeds a stream to a tracker in chunks and records every event.</summary>
internal static class TrackerFeed
{
    public static FeedResult Whole(ref FrameTracker tracker, byte[] stream) => Cut(ref tracker, stream, []);

    /// <summary>Feeds the stream cut at each of <paramref name="cuts"/> (ascending positions).</summary>
    public static FeedResult Cut(ref FrameTracker tracker, byte[] stream, IReadOnlyList<int> cuts)
    {
        var events = new List<TrackerEvent>();
        var chunkStart = 0;
        for (var c = 0; c <= cuts.Count; c++)
        {
            var chunkEnd = c < cuts.Count ? cuts[c] : stream.Length;
            var report = FeedChunk(ref tracker, stream, chunkStart, chunkEnd, events);
            if (report is not null)
            {
                return new FeedResult(events, report);
            }

            chunkStart = chunkEnd;
        }

        events.Add(Final(in tracker, stream.Length));
        return new FeedResult(events, null);
    }

    public static FeedResult ByteAtATime(ref FrameTracker tracker, byte[] stream)
    {
        var cuts = new int[Math.Max(0, stream.Length - 1)];
        for (var i = 0; i < cuts.Length; i++)
        {
            cuts[i] = i + 1;
        }

        return Cut(ref tracker, stream, cuts);
    }

    /// <summary>Feeds stream[start..end] as one chunk, calling Track again after each event as a pump would.</summary>
    public static ViolationReport? FeedChunk(ref FrameTracker tracker, byte[] stream, int start, int end, List<TrackerEvent> events)
    {
        Span<byte> payload = stackalloc byte[FrameTracker.MaxControlPayload];
        var spanStart = start;
        while (true)
        {
            ReadOnlySpan<byte> span = stream.AsSpan(spanStart, end - spanStart);
            TrackStatus status = tracker.Track(span, out var consumed);
            Assert.InRange(consumed, 0, span.Length);
            switch (status)
            {
                case TrackStatus.NeedMoreData:
                    Assert.Equal(span.Length, consumed);
                    return null;
                case TrackStatus.Violation:
                    Assert.NotEqual(FrameViolation.None, tracker.Violation);
                    return new ViolationReport(tracker.Violation, spanStart, end, consumed);
                case TrackStatus.DataFrameHeader:
                    Assert.True(consumed > 0);
                    events.Add(Event(in tracker, status, spanStart + consumed, ""));
                    break;
                case TrackStatus.ControlFrame:
                    Assert.True(consumed > 0);
                    var length = tracker.CopyControlPayload(payload);
                    events.Add(Event(in tracker, status, spanStart + consumed, Convert.ToHexString(payload.Slice(0, length))));
                    break;
                default:
                    Assert.Fail($"Unknown status {status}.");
                    break;
            }

            spanStart += consumed;
        }
    }

    public static TrackerEvent Final(in FrameTracker tracker, long position) => Event(in tracker, TrackStatus.NeedMoreData, position, "");

    private static TrackerEvent Event(in FrameTracker tracker, TrackStatus status, long position, string control)
        => new(status, position, tracker.Header, control, tracker.PayloadRemaining, tracker.Frames, tracker.Messages, tracker.InMessage);

    /// <summary>
    /// The events a correct tracker reports for these well-formed frames fed whole: data frames count in
    /// <see cref="FrameTracker.Frames"/> when their last payload byte goes by (at their header when empty),
    /// control frames when complete.
    /// </summary>
    public static List<TrackerEvent> Expected(IReadOnlyList<BuiltFrame> frames, int streamLength)
    {
        var events = new List<TrackerEvent>();
        long done = 0;
        long messages = 0;
        var inMessage = false;
        var last = default(FrameHeader);
        foreach (BuiltFrame frame in frames)
        {
            last = frame.Header;
            if (frame.IsControl)
            {
                done++;
                events.Add(new(TrackStatus.ControlFrame, frame.End, last, Convert.ToHexString(frame.Payload), 0, done, messages, inMessage));
                continue;
            }

            inMessage = !frame.Fin;
            if (frame.Payload.Length == 0)
            {
                done++;
                messages += frame.Fin ? 1 : 0;
                events.Add(new(TrackStatus.DataFrameHeader, frame.End, last, "", 0, done, messages, inMessage));
                continue;
            }

            events.Add(new(TrackStatus.DataFrameHeader, frame.Start + frame.HeaderLength, last, "", frame.Payload.Length, done, messages, inMessage));
            done++;
            messages += frame.Fin ? 1 : 0;
        }

        events.Add(new(TrackStatus.NeedMoreData, streamLength, last, "", 0, done, messages, inMessage));
        return events;
    }
}
