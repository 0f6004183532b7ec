using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Tests.Frames;

public abstract partial class FrameTrackerTests
{
    /// <summary>Every code an endpoint may send (RFC 6455 §7.4.1, §7.4.2 and the IANA registry), at its edges.</summary>
    public static TheoryData<int> SendableCloseCodes => new()
    {
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3001, 3999, 4000, 4001, 4999,
    };

    [Theory]
    [MemberData(nameof(SendableCloseCodes))]
    public void A_close_with_a_sendable_code_and_a_UTF8_reason_passes_at_every_split_point(int code)
    {
        FrameStreamBuilder b = NewStream()
            .Add(WebSocketOpcode.Text, 3, fin: false)
            .Add(WebSocketOpcode.Close, ClosePayload((ushort)code, "ok ✓ ü"));

        AssertEverySplitPoint(b, $"code {code}, ", tracker => Assert.True(tracker.CloseSeen));
    }

    [Fact]
    public void CloseSeen_is_set_only_once_the_close_frame_is_whole()
    {
        FrameStreamBuilder b = NewStream().Add(WebSocketOpcode.Ping, 1).Add(WebSocketOpcode.Close, ClosePayload(1000, "bye"));
        var stream = b.ToArray();
        FrameTracker tracker = NewTracker();

        Assert.Null(TrackerFeed.FeedChunk(ref tracker, stream, 0, stream.Length - 1, []));
        Assert.False(tracker.CloseSeen);
        Assert.Null(TrackerFeed.FeedChunk(ref tracker, stream, stream.Length - 1, stream.Length, []));
        Assert.True(tracker.CloseSeen);

        // Nothing more is fine; one more byte is not.
        Assert.Equal(TrackStatus.NeedMoreData, tracker.Track([], out _));
        Assert.Equal(TrackStatus.Violation, tracker.Track([0x81], out var consumed));
        Assert.Equal(0, consumed);
        Assert.Equal(FrameViolation.DataAfterClose, tracker.Violation);
    }
}
