namespace Bctrl.Relay.Splice;

/// <summary>How an attach ended and what it moved: the seed of its recording metadata.</summary>
internal sealed record AttachSummary(
    AttachEndReason Reason,
    string Detail,
    CloseFrame SentToClient,
    CloseFrame SentToRuntime,
    ushort ClientCloseCode,
    ushort RuntimeCloseCode,
    TrafficCount FromClient,
    TrafficCount FromRuntime);
