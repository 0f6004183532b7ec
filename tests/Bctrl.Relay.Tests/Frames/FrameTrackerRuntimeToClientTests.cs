using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Tests.Frames;

/// <summary>Runtime to client: no frame may be masked (RFC 6455 §5.1).</summary>
public sealed class FrameTrackerRuntimeToClientTests : FrameTrackerTests
{
    private protected override FrameDirection Direction => FrameDirection.RuntimeToClient;

    [Theory]
    [InlineData(0x2)]
    [InlineData(0xA)]
    [InlineData(0x8)]
    public void Masked_frame_is_a_mask_violation(int opcode)
    {
        var frame = FrameStreamBuilder.Header(true, opcode, masked: true, 2, LengthForm.Minimal, 0, 0x11223344);
        var tracker = new FrameTracker(FrameDirection.RuntimeToClient, 1000);

        Assert.Equal(TrackStatus.Violation, tracker.Track([.. frame, 0x03, 0xE8], out var consumed));

        Assert.Equal(FrameViolation.MaskBitMismatch, tracker.Violation);
        Assert.Equal(0, consumed);
    }
}
