namespace Bctrl.Relay.Splice;

/// <summary>
/// A coarse clock the heartbeat advances once a tick, so the pumps can stamp times with a field read instead of a
/// clock call per frame (Kestrel's heartbeat does the same for its timeouts).
/// </summary>
internal sealed class SpliceClock
{
    private long _nowMilliseconds;

    public long NowMilliseconds => Volatile.Read(ref _nowMilliseconds);

    public void Advance(long nowMilliseconds) => Volatile.Write(ref _nowMilliseconds, nowMilliseconds);
}
