using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Tests.Frames;

public abstract partial class FrameTrackerTests
{
    [Fact]
    public void Stream_ending_inside_a_header_or_control_frame_holds_its_bytes_and_reset_drops_them()
    {
        FrameStreamBuilder b = BuildStream("fragmented");
        var stream = b.ToArray();
        List<TrackerEvent> expected = TrackerFeed.Expected(b.Frames, stream.Length);
        var held = new byte[FrameTracker.MaxHeaderLength + FrameTracker.MaxControlPayload];
        var checkedCuts = 0;

        foreach (BuiltFrame frame in b.Frames)
        {
            // What the tracker holds of a frame in flight: a data frame's header, or a whole control frame.
            var heldEnd = frame.IsControl ? frame.End : frame.Start + frame.HeaderLength;
            FrameTracker atStart = NewTracker();
            Assert.Null(TrackerFeed.FeedChunk(ref atStart, stream, 0, frame.Start, []));

            for (var cut = frame.Start + 1; cut < heldEnd; cut++)
            {
                var context = $"{frame.Opcode} at {frame.Start}, stream ends at {cut}";
                FrameTracker tracker = NewTracker();
                var events = new List<TrackerEvent>();
                Assert.Null(TrackerFeed.FeedChunk(ref tracker, stream, 0, cut, events));

                Assert.Equal(cut - frame.Start, tracker.PendingBytes);
                var count = tracker.CopyPendingTo(held);
                Assert.True(stream.AsSpan(frame.Start, cut - frame.Start).SequenceEqual(held.AsSpan(0, count)), context);
                Assert.False(tracker.AtFrameBoundary);
                Assert.Equal(0, tracker.PayloadRemaining);

                // Nothing moved yet: the state is the one at the frame's start.
                Assert.Equal(TrackerFeed.Final(in atStart, 0), TrackerFeed.Final(in tracker, 0));

                tracker.ResetPending();
                Assert.Equal(0, tracker.PendingBytes);
                Assert.Equal(0, tracker.CopyPendingTo(held));
                Assert.True(tracker.AtFrameBoundary);
                Assert.Equal(TrackerFeed.Final(in atStart, 0), TrackerFeed.Final(in tracker, 0));

                // The same bytes again, then the rest: as if fed whole.
                Assert.Null(TrackerFeed.FeedChunk(ref tracker, stream, frame.Start, cut, events));
                Assert.Null(TrackerFeed.FeedChunk(ref tracker, stream, cut, stream.Length, events));
                events.Add(TrackerFeed.Final(in tracker, stream.Length));
                Assert.True(expected.SequenceEqual(events), context);
                checkedCuts++;
            }
        }

        // The 125-byte pong alone gives more than 125 cuts: the loops did run.
        Assert.True(checkedCuts > 125, $"{checkedCuts} cuts");
    }

    [Fact]
    public void Nothing_is_pending_inside_a_data_payload()
    {
        FrameStreamBuilder b = NewStream().Add(WebSocketOpcode.Binary, 300);
        var stream = b.ToArray();
        FrameTracker tracker = NewTracker();

        Assert.Equal(TrackStatus.DataFrameHeader, tracker.Track(stream.AsSpan(0, 100), out var consumed));
        Assert.Equal(TrackStatus.NeedMoreData, tracker.Track(stream.AsSpan(consumed, 100 - consumed), out _));

        Assert.Equal(0, tracker.PendingBytes);
        Assert.Equal(stream.Length - 100, tracker.PayloadRemaining);
        Assert.False(tracker.AtFrameBoundary);
        tracker.ResetPending();
        Assert.Equal(stream.Length - 100, tracker.PayloadRemaining);
    }

    [Fact]
    public void After_a_reset_a_different_frame_can_follow()
    {
        FrameStreamBuilder b = NewStream()
            .Add(WebSocketOpcode.Text, 2, fin: false)
            .Add(WebSocketOpcode.Ping, 20)
            .Add(WebSocketOpcode.Pong, 3)
            .Add(WebSocketOpcode.Continuation, 1);
        var stream = b.ToArray();
        BuiltFrame ping = b.Frames[1];
        FrameTracker tracker = NewTracker();
        var events = new List<TrackerEvent>();

        // Half a ping, dropped; the stream goes on with the pong as if the ping had never begun.
        Assert.Null(TrackerFeed.FeedChunk(ref tracker, stream, 0, ping.Start + 10, events));
        tracker.ResetPending();
        Assert.Null(TrackerFeed.FeedChunk(ref tracker, stream, ping.End, stream.Length, events));

        Assert.Equal([TrackStatus.DataFrameHeader, TrackStatus.ControlFrame, TrackStatus.DataFrameHeader], events.Select(e => e.Status));
        Assert.Equal(WebSocketOpcode.Pong, events[1].Header.Opcode);
        Assert.Equal(3, tracker.Frames);
        Assert.Equal(1, tracker.Messages);
    }
}
