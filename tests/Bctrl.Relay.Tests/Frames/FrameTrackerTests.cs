using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Tests.Frames;

/// <summary>
/// The tracker's behaviour, run once per direction by the subclasses: streams are masked when the direction is
/// <see cref="FrameDirection.ClientToRuntime"/> and unmasked otherwise (RFC 6455 §5.1).
/// </summary>
public abstract partial class FrameTrackerTests
{
    private const long Unlimited = 1L << 40;

    private protected abstract FrameDirection Direction { get; }

    private protected bool Masked => Direction == FrameDirection.ClientToRuntime;

    public static TheoryData<string> Streams => new() { "header-forms", "control-frames", "fragmented", "close-empty", "close-code-only", "close-utf8-reason" };

    private protected FrameStreamBuilder NewStream() => new(Masked);

    private protected FrameTracker NewTracker(long maxMessageBytes = Unlimited) => new(Direction, maxMessageBytes);

    private FrameStreamBuilder BuildStream(string name)
    {
        FrameStreamBuilder b = NewStream();
        switch (name)
        {
            case "header-forms":
                // 7-bit, 16-bit and 64-bit lengths at their edges, data and control.
                b.Add(WebSocketOpcode.Text, 5)
                    .Add(WebSocketOpcode.Binary, 0)
                    .Add(WebSocketOpcode.Binary, 125)
                    .Add(WebSocketOpcode.Binary, 126)
                    .Add(WebSocketOpcode.Ping, 0)
                    .Add(WebSocketOpcode.Binary, 300)
                    .Add(WebSocketOpcode.Text, 65536)
                    .Add(WebSocketOpcode.Pong, 125)
                    .Add(WebSocketOpcode.Binary, 65535)
                    .Add(WebSocketOpcode.Binary, 1)
                    .Add(WebSocketOpcode.Close, [0x03, 0xE8]);
                break;
            case "control-frames":
                b.Add(WebSocketOpcode.Ping, 0)
                    .Add(WebSocketOpcode.Ping, 5)
                    .Add(WebSocketOpcode.Pong, 125)
                    .Add(WebSocketOpcode.Pong, 1)
                    .Add(WebSocketOpcode.Ping, 2)
                    .Add(WebSocketOpcode.Close, ClosePayload(4999, new string('r', 123)));
                break;
            case "fragmented":
                // §5.4: control frames may come between the fragments of a message and do not end it.
                b.Add(WebSocketOpcode.Text, 10, fin: false)
                    .Add(WebSocketOpcode.Ping, 3)
                    .Add(WebSocketOpcode.Continuation, 0, fin: false)
                    .Add(WebSocketOpcode.Pong, 125)
                    .Add(WebSocketOpcode.Continuation, 300, fin: false)
                    .Add(WebSocketOpcode.Ping, 0)
                    .Add(WebSocketOpcode.Continuation, 70000, fin: false)
                    .Add(WebSocketOpcode.Continuation, 4)
                    .Add(WebSocketOpcode.Binary, 0, fin: false)
                    .Add(WebSocketOpcode.Continuation, 0, fin: false)
                    .Add(WebSocketOpcode.Ping, 1)
                    .Add(WebSocketOpcode.Continuation, 0)
                    .Add(WebSocketOpcode.Text, 1)
                    .Add(WebSocketOpcode.Binary, 200, fin: false)
                    .Add(WebSocketOpcode.Pong, 0)
                    .Add(WebSocketOpcode.Continuation, 300, fin: false)
                    .Add(WebSocketOpcode.Close, ClosePayload(1000, "bye"));
                break;
            case "close-empty":
                // §5.5.1: a close may carry no body at all.
                b.Add(WebSocketOpcode.Text, 3).Add(WebSocketOpcode.Close, 0);
                break;
            case "close-code-only":
                b.Add(WebSocketOpcode.Binary, 1, fin: false).Add(WebSocketOpcode.Close, ClosePayload(1001, ""));
                break;
            case "close-utf8-reason":
                // Two-, three- and four-byte UTF-8 sequences in the reason (§5.5.1, §8.1).
                b.Add(WebSocketOpcode.Ping, 4).Add(WebSocketOpcode.Close, ClosePayload(3000, "é ✓ 𝄞 done"));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, null);
        }

        return b;
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Whole_stream_reports_every_frame(string name)
    {
        FrameStreamBuilder b = BuildStream(name);
        var stream = b.ToArray();
        FrameTracker tracker = NewTracker();

        FeedResult result = TrackerFeed.Whole(ref tracker, stream);

        Assert.Null(result.Violation);
        Assert.Equal(TrackerFeed.Expected(b.Frames, stream.Length), result.Events);
        Assert.True(tracker.AtFrameBoundary);
        Assert.Equal(0, tracker.PendingBytes);
        Assert.All(result.Events, e => Assert.Equal(Masked, e.Header.Masked));
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Every_split_point_gives_the_events_of_the_whole_stream(string name)
        => AssertEverySplitPoint(BuildStream(name), context: "");

    [Theory]
    [MemberData(nameof(Streams))]
    public void One_byte_at_a_time_gives_the_events_of_the_whole_stream(string name)
    {
        FrameStreamBuilder b = BuildStream(name);
        var stream = b.ToArray();
        FrameTracker tracker = NewTracker();

        FeedResult result = TrackerFeed.ByteAtATime(ref tracker, stream);

        AssertSameEvents(TrackerFeed.Expected(b.Frames, stream.Length), result, "one byte at a time");
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Random_cuts_give_the_events_of_the_whole_stream(string name)
    {
        FrameStreamBuilder b = BuildStream(name);
        var stream = b.ToArray();
        List<TrackerEvent> expected = TrackerFeed.Expected(b.Frames, stream.Length);
        var random = new Random(6455);

        for (var round = 0; round < 300; round++)
        {
            var cuts = new int[random.Next(2, 12)];
            for (var i = 0; i < cuts.Length; i++)
            {
                cuts[i] = random.Next(0, stream.Length + 1);
            }

            Array.Sort(cuts);
            FrameTracker tracker = NewTracker();
            FeedResult result = TrackerFeed.Cut(ref tracker, stream, cuts);
            AssertSameEvents(expected, result, $"cuts at {string.Join(',', cuts)}");
        }
    }

    [Fact]
    public void Empty_data_needs_more_data_in_every_state()
    {
        FrameStreamBuilder b = NewStream().Add(WebSocketOpcode.Binary, 10).Add(WebSocketOpcode.Ping, 3);
        var stream = b.ToArray();
        FrameTracker tracker = NewTracker();

        Assert.Equal(TrackStatus.NeedMoreData, tracker.Track([], out var consumed));
        Assert.Equal(0, consumed);

        // Inside a header.
        Assert.Equal(TrackStatus.NeedMoreData, tracker.Track(stream.AsSpan(0, 1), out _));
        Assert.Equal(TrackStatus.NeedMoreData, tracker.Track([], out consumed));
        Assert.Equal(0, consumed);
        Assert.Equal(1, tracker.PendingBytes);

        // Inside a data payload.
        Assert.Equal(TrackStatus.DataFrameHeader, tracker.Track(stream.AsSpan(1, b.Frames[0].HeaderLength - 1), out _));
        Assert.Equal(TrackStatus.NeedMoreData, tracker.Track([], out consumed));
        Assert.Equal(0, consumed);
        Assert.Equal(10, tracker.PayloadRemaining);
    }

    [Fact]
    public void A_data_frame_counts_when_its_last_payload_byte_is_seen()
    {
        FrameStreamBuilder b = NewStream()
            .Add(WebSocketOpcode.Binary, 10)
            .Add(WebSocketOpcode.Text, 0, fin: false)
            .Add(WebSocketOpcode.Continuation, 0);
        var stream = b.ToArray();
        BuiltFrame first = b.Frames[0];
        FrameTracker tracker = NewTracker();

        Assert.Equal(TrackStatus.DataFrameHeader, tracker.Track(stream.AsSpan(0, first.End - 1), out var consumed));
        Assert.Equal(first.HeaderLength, consumed);
        Assert.Equal(0, tracker.Frames);
        Assert.Equal(TrackStatus.NeedMoreData, tracker.Track(stream.AsSpan(consumed, first.End - 1 - consumed), out _));
        Assert.Equal(1, tracker.PayloadRemaining);
        Assert.Equal(0, tracker.Frames);
        Assert.Equal(0, tracker.Messages);
        Assert.False(tracker.AtFrameBoundary);

        Assert.Equal(TrackStatus.NeedMoreData, tracker.Track(stream.AsSpan(first.End - 1, 1), out _));
        Assert.Equal(1, tracker.Frames);
        Assert.Equal(1, tracker.Messages);
        Assert.True(tracker.AtFrameBoundary);

        // An empty data frame counts at its header; its message ends with the final fragment.
        Assert.Equal(TrackStatus.DataFrameHeader, tracker.Track(stream.AsSpan(first.End), out consumed));
        Assert.Equal(2, tracker.Frames);
        Assert.Equal(1, tracker.Messages);
        Assert.True(tracker.InMessage);
        Assert.Equal(TrackStatus.DataFrameHeader, tracker.Track(stream.AsSpan(first.End + consumed), out _));
        Assert.Equal(3, tracker.Frames);
        Assert.Equal(2, tracker.Messages);
        Assert.False(tracker.InMessage);
    }

    [Fact]
    public void Track_does_not_allocate_after_warm_up()
    {
        FrameStreamBuilder b = NewStream();
        for (var i = 0; i < 400; i++)
        {
            b.Add(WebSocketOpcode.Text, 40 + (i % 300), fin: false)
                .Add(WebSocketOpcode.Ping, i % 126)
                .Add(WebSocketOpcode.Continuation, i * 37 % 70000)
                .Add(WebSocketOpcode.Binary, 0)
                .Add(WebSocketOpcode.Pong, 4);
        }

        // The close at the end runs the close-code and UTF-8 checks inside the measured region too.
        b.Add(WebSocketOpcode.Close, ClosePayload(1000, "é ✓ 𝄞 all done"));

        var stream = b.ToArray();
        for (var warmUp = 0; warmUp < 3; warmUp++)
        {
            TrackAll(stream, Direction);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var frames = TrackAll(stream, Direction);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(b.Frames.Count, frames);
        Assert.Equal(0, allocated);
    }

    // Static and capture-free so the measured region holds nothing but the tracker and spans.
    private static long TrackAll(byte[] stream, FrameDirection direction)
    {
        const int ReadSize = 1021;
        Span<byte> control = stackalloc byte[FrameTracker.MaxControlPayload];
        var tracker = new FrameTracker(direction, Unlimited);
        for (var offset = 0; offset < stream.Length; offset += ReadSize)
        {
            ReadOnlySpan<byte> span = stream.AsSpan(offset, Math.Min(ReadSize, stream.Length - offset));
            while (true)
            {
                TrackStatus status = tracker.Track(span, out var consumed);
                if (status == TrackStatus.NeedMoreData)
                {
                    break;
                }

                if (status == TrackStatus.Violation)
                {
                    return -1;
                }

                if (status == TrackStatus.ControlFrame)
                {
                    tracker.CopyControlPayload(control);
                }

                span = span.Slice(consumed);
            }
        }

        return tracker.Frames;
    }

    /// <summary>
    /// Cuts <paramref name="b"/>'s stream in two at every point in turn, each time into a new tracker: the events must be
    /// those of the whole stream. <paramref name="then"/>, if given, checks each tracker afterwards.
    /// </summary>
    private void AssertEverySplitPoint(FrameStreamBuilder b, string context, Action<FrameTracker>? then = null)
    {
        var stream = b.ToArray();
        List<TrackerEvent> expected = TrackerFeed.Expected(b.Frames, stream.Length);
        var cut = new int[1];

        for (var i = 0; i <= stream.Length; i++)
        {
            cut[0] = i;
            FrameTracker tracker = NewTracker();
            AssertSameEvents(expected, TrackerFeed.Cut(ref tracker, stream, cut), $"{context}cut at {i}");
            then?.Invoke(tracker);
        }
    }

    private static void AssertSameEvents(List<TrackerEvent> expected, FeedResult actual, string context)
    {
        if (actual.Violation is { } violation)
        {
            Assert.Fail($"{context}: unexpected {violation}.");
        }

        for (var i = 0; i < Math.Min(expected.Count, actual.Events.Count); i++)
        {
            if (!expected[i].Equals(actual.Events[i]))
            {
                Assert.Fail($"{context}: event {i} differs.\nexpected {expected[i]}\nactual   {actual.Events[i]}");
            }
        }

        if (expected.Count != actual.Events.Count)
        {
            Assert.Fail($"{context}: {actual.Events.Count} events instead of {expected.Count}.");
        }
    }
}
