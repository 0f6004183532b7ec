using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Tests.Frames;

/// <summary>Client to runtime: every frame must be masked (RFC 6455 §5.1).</summary>
public sealed class FrameTrackerClientToRuntimeTests : FrameTrackerTests
{
    private protected override FrameDirection Direction => FrameDirection.ClientToRuntime;

    [Theory]
    [InlineData(0x1)]
    [InlineData(0x9)]
    [InlineData(0x8)]
    public void Unmasked_frame_is_a_mask_violation(int opcode)
    {
        var frame = FrameStreamBuilder.Header(true, opcode, masked: false, 2, LengthForm.Minimal, 0, 0);
        var tracker = new FrameTracker(FrameDirection.ClientToRuntime, 1000);

        Assert.Equal(TrackStatus.Violation, tracker.Track([.. frame, 0x03, 0xE8], out var consumed));

        Assert.Equal(FrameViolation.MaskBitMismatch, tracker.Violation);
        Assert.Equal(0, consumed);
    }
}
