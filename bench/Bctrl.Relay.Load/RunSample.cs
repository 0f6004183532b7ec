namespace Bctrl.Relay.Load;

/// <summary>
/// One measured window of one scenario against one target. The latency percentiles are of the round trips answered in
/// the window (closed-loop scenarios only), from before the send to the answer's last byte.
/// </summary>
internal sealed record RunSample(
    string Scenario,
    string Target,
    int Round,
    double Seconds,
    long Messages,
    long PayloadBytes,
    long RelayedBytes,
    double? RelayCpuSeconds,
    double LoadCpuSeconds,
    double IdleRelayCpuSeconds,
    double? ForeignCpuSeconds,
    int Errors,
    string? FirstError,
    bool Failed,
    int Attempts = 1,
    long? RssBeforeBytes = null,
    long? RssAfterBytes = null,
    double? EndpointSeconds = null,
    double? LatencyP50Microseconds = null,
    double? LatencyP99Microseconds = null)
{
    public const double BytesPerGB = 1e9;

    /// <summary>Round trips per second, or MiB/s of payload (echoed, or received from the stream).</summary>
    /// <summary>Attaches per second (attach rate); KiB of proxy RSS growth per attach held (idle; NaN for direct).</summary>
    public double Value(Scenario scenario) => scenario.Kind switch
    {
        ScenarioKind.RoundTrip or ScenarioKind.AttachRate => Messages / Seconds,
        ScenarioKind.Idle => RssBeforeBytes is { } before && RssAfterBytes is { } after && Messages > 0
            ? (after - before) / 1024.0 / Messages
            : double.NaN,
        _ => PayloadBytes / (double)Load.Scenario.MiB / Seconds,
    };

    /// <summary>Proxy CPU seconds per 10^9 payload bytes through it (both directions summed); null for direct.</summary>
    public double? CpuSecondsPerGB => RelayCpuSeconds is { } cpu && RelayedBytes > 0 ? cpu / (RelayedBytes / BytesPerGB) : null;

    /// <summary>Proxy CPU microseconds per attach (attach rate: the lease, the upgrade, one round trip, the close).</summary>
    public double? CpuMicrosecondsPerAttach => RelayCpuSeconds is { } cpu && Messages > 0 ? cpu / Messages * 1e6 : null;
}
