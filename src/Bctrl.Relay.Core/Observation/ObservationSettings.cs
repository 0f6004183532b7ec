namespace Bctrl.Relay.Observation;

/// <summary>The sampler's knobs, from <c>Relay:Observation</c>.</summary>
internal sealed record ObservationSettings(int PrefixBytes, double EventSampleRate, bool StoreParams, int MaxPendingCommands)
{
    public static ObservationSettings Default { get; } = new(PrefixBytes: 1024, EventSampleRate: 1.0, StoreParams: false, MaxPendingCommands: 4096);
}
