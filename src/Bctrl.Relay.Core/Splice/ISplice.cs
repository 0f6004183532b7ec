namespace Bctrl.Relay.Splice;

/// <summary>
/// An attach's splice as the registry, the heartbeat and the metrics see it, whichever transport carries it: the
/// pipe splice behind Kestrel's Sockets transport (<see cref="AttachSplice"/>) or the relay transport's loop splice
/// (<see cref="Loops.LoopSplice"/>). Every member may be called from any thread.
/// </summary>
internal interface ISplice
{
    AttachEndReason Reason { get; }

    bool IsEnded { get; }

    TrafficCount FromClient { get; }

    TrafficCount FromRuntime { get; }

    /// <summary>Bytes read from the client and held while the runtime does not read.</summary>
    long HeldForRuntime { get; }

    /// <summary>Bytes read from the runtime and held while the client does not read.</summary>
    long HeldForClient { get; }

    /// <summary>Commands the relay answered instead of the runtime (docs/policy.md, docs/quotas.md): denied by the lease's policy, over its rate.</summary>
    (long Policy, long Rate) CommandsRefused { get; }

    /// <summary>Ends the attach from outside (terminate, drain, heartbeat); the first reason recorded wins.</summary>
    void Abort(AttachEndReason reason);

    /// <summary>The heartbeat's tick, about every 250 ms; a splice that keeps its own timers ignores it.</summary>
    void OnHeartbeat(long nowMilliseconds);
}
