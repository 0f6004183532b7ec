using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Splice;

/// <summary>
/// The close code and reason each leg gets for each way an attach ends (docs/design.md §4 item 5; the README has the table).
/// Pass-through ends keep the peer's own close frame, so the relay sends nothing of its own; a leg whose connection is
/// gone gets nothing either.
/// </summary>
internal static class CloseCodes
{
    public const ushort Normal = 1000;
    public const ushort GoingAway = 1001;
    public const ushort ProtocolError = 1002;
    public const ushort PolicyViolation = 1008;
    public const ushort NoStatus = 1005;
    public const ushort MessageTooBig = 1009;
    public const ushort InternalError = 1011;

    /// <summary>RFC 6455 IANA registry: "Bad Gateway", the server acting as a gateway got an invalid response.</summary>
    public const ushort BadGateway = 1014;

    // 4000–4999 are for private use (RFC 6455 §7.4.2).
    public const ushort LeaseTerminated = 4001;
    public const ushort KeepAliveTimeout = 4002;
    public const ushort StalledConsumer = 4003;
    public const ushort AttachTimeLimit = 4004;
    public const ushort ByteQuotaExceeded = 4005;

    /// <summary>What the relay sends to the client and to the runtime; a code of 0 means nothing.</summary>
    public static (CloseFrame Client, CloseFrame Runtime) For(AttachEndReason reason, FrameViolation violation) => reason switch
    {
        AttachEndReason.ClientClosed or AttachEndReason.RuntimeClosed => (default, default),
        AttachEndReason.ClientGone => (default, new(GoingAway, "client went away")),
        AttachEndReason.RuntimeGone => (new(BadGateway, "runtime closed the connection"), default),
        AttachEndReason.ClientProtocolError => (new(ProtocolError, Describe(violation)), new(GoingAway, "client protocol error")),
        AttachEndReason.RuntimeProtocolError => (new(BadGateway, "runtime protocol error"), new(ProtocolError, Describe(violation))),
        AttachEndReason.ClientMessageTooBig => (new(MessageTooBig, "message too big"), new(GoingAway, "client message too big")),
        AttachEndReason.RuntimeMessageTooBig => (new(MessageTooBig, "runtime message too big"), new(MessageTooBig, "message too big")),
        AttachEndReason.LeaseTerminated => (new(LeaseTerminated, "lease terminated"), new(LeaseTerminated, "lease terminated")),
        AttachEndReason.KeepAliveTimeout => (new(KeepAliveTimeout, "keep-alive timeout"), new(GoingAway, "client keep-alive timeout")),
        AttachEndReason.ClientStalled => (new(StalledConsumer, "client stalled"), new(GoingAway, "client stalled")),
        AttachEndReason.RuntimeStalled => (new(StalledConsumer, "runtime stalled"), new(StalledConsumer, "runtime stalled")),
        AttachEndReason.Draining => (new(GoingAway, "relay draining"), new(GoingAway, "relay draining")),
        AttachEndReason.AttachTimeLimit => (new(AttachTimeLimit, "attach time limit"), new(AttachTimeLimit, "attach time limit")),
        AttachEndReason.ByteQuotaExceeded => (new(ByteQuotaExceeded, "byte quota exceeded"), new(ByteQuotaExceeded, "byte quota exceeded")),
        AttachEndReason.PolicyViolation => (new(PolicyViolation, "policy violation"), new(GoingAway, "client policy violation")),
        _ => (new(InternalError, "relay fault"), new(GoingAway, "relay fault")),
    };

    public static string Describe(FrameViolation violation) => violation switch
    {
        FrameViolation.ReservedBits => "reserved bits set",
        FrameViolation.UnknownOpcode => "unknown opcode",
        FrameViolation.ControlFrameTooLong => "control frame over 125 bytes",
        FrameViolation.ControlFrameFragmented => "fragmented control frame",
        FrameViolation.MaskBitMismatch => "wrong mask bit",
        FrameViolation.LengthTopBit => "payload length top bit set",
        FrameViolation.UnexpectedContinuation => "unexpected continuation frame",
        FrameViolation.ExpectedContinuation => "expected continuation frame",
        FrameViolation.InvalidClosePayload => "invalid close payload",
        FrameViolation.MessageTooBig => "message too big",
        FrameViolation.InvalidCloseCode => "invalid close code",
        FrameViolation.InvalidCloseReason => "close reason is not UTF-8",
        FrameViolation.NonMinimalLength => "non-minimal length",
        FrameViolation.DataAfterClose => "data after close",
        _ => "protocol error",
    };
}

/// <summary>A close the relay sends on one leg; <see cref="Code"/> 0 means none.</summary>
internal readonly record struct CloseFrame(ushort Code, string Reason)
{
    public bool IsNone => Code == 0;
}
