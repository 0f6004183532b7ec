namespace Bctrl.Relay.Frames;

/// <summary>Why a byte stream is not a valid WebSocket stream. Every value but <see cref="None"/> and
/// <see cref="MessageTooBig"/> closes the attach with 1002; <see cref="MessageTooBig"/> closes it with 1009.</summary>
internal enum FrameViolation : byte
{
    None,
    ReservedBits,
    UnknownOpcode,
    ControlFrameTooLong,
    ControlFrameFragmented,
    MaskBitMismatch,
    LengthTopBit,
    UnexpectedContinuation,
    ExpectedContinuation,
    InvalidClosePayload,
    MessageTooBig,
}
