using Bctrl.Relay.Observation;

namespace Bctrl.Relay.Options;

/// <summary>The <c>Relay:Observation</c> section: what the sampler records and how much it may hold (docs/design.md §6).</summary>
internal sealed class ObservationOptions
{
    /// <summary>Record CDP commands, results, events and attach metadata. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Bytes of each text message the sampler reads (64 to 4096). Default 1024.</summary>
    public int PrefixBytes { get; set; } = 1024;

    /// <summary>Share of CDP events recorded, 0 to 1; commands and results are always recorded. Default 1.</summary>
    public double EventSampleRate { get; set; } = 1.0;

    /// <summary>Store command parameters (sensitive methods keep only their size). Default false.</summary>
    public bool StoreParams { get; set; }

    /// <summary>Records waiting for the sink; a full queue drops and counts. Default 10000.</summary>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>Records kept per runtime: the in-memory ring's size, or the Redis stream's approximate MAXLEN. Default 10000.</summary>
    public int RecordsPerRuntime { get; set; } = 10_000;

    /// <summary>Commands awaiting their result that an attach tracks for round-trip times. Default 4096.</summary>
    public int MaxPendingCommands { get; set; } = 4096;

    public void Validate()
    {
        if (PrefixBytes is < 64 or > 4096)
        {
            throw new InvalidOperationException("Relay:Observation:PrefixBytes must be between 64 and 4096" + RelayOptions.Got(PrefixBytes));
        }

        if (EventSampleRate is < 0 or > 1 || double.IsNaN(EventSampleRate))
        {
            throw new InvalidOperationException("Relay:Observation:EventSampleRate must be between 0 and 1" + RelayOptions.Got(EventSampleRate));
        }

        if (QueueCapacity < 1 || RecordsPerRuntime < 1 || MaxPendingCommands < 0)
        {
            throw new InvalidOperationException("Relay:Observation:QueueCapacity and RecordsPerRuntime must be at least 1, MaxPendingCommands at least 0.");
        }
    }

    public ObservationSettings ToSettings() => new(PrefixBytes, EventSampleRate, StoreParams, MaxPendingCommands);
}
