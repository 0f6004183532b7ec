namespace Bctrl.Relay.Load;

/// <summary>One measured window of one scenario against one target.</summary>
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
    int Attempts = 1)
{
    public const double BytesPerGB = 1e9;

    /// <summary>Round trips per second, or MiB/s of payload (echoed, or received from the stream).</summary>
    public double Value(Scenario scenario) => scenario.Kind == ScenarioKind.RoundTrip
        ? Messages / Seconds
        : PayloadBytes / (double)Load.Scenario.MiB / Seconds;

    /// <summary>Relay CPU seconds per 10^9 payload bytes through it (both directions summed); null for direct.</summary>
    public double? CpuSecondsPerGB => RelayCpuSeconds is { } cpu && RelayedBytes > 0 ? cpu / (RelayedBytes / BytesPerGB) : null;
}
