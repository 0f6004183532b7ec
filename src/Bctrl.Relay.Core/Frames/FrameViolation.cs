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

    /// <summary>A close code an endpoint may not send (RFC 6455 §7.4): 0-999, 1004-1006, 1015-2999, 5000 and up.</summary>
    InvalidCloseCode,

    /// <summary>A close reason that is not valid UTF-8 (§5.5.1, §8.1).</summary>
    InvalidCloseReason,

    /// <summary>A payload length not in its shortest form (§5.2: "the minimal number of bytes MUST be used").</summary>
    NonMinimalLength,

    /// <summary>A byte after a close frame (§5.5.1: the endpoint that sent a close sends nothing more).</summary>
    DataAfterClose,
}
