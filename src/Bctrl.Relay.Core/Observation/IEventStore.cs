namespace Bctrl.Relay.Observation;

/// <summary>
/// The records of each runtime, in order, bounded: an in-memory ring for the embedded default, a Redis stream per
/// runtime for a fleet. Ids increase within a runtime.
/// </summary>
internal interface IEventStore
{
    ValueTask AppendAsync(IReadOnlyList<ObservationRecord> batch, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="max"/> records after <paramref name="afterId"/> (from the oldest kept when null).</summary>
    ValueTask<IReadOnlyList<StoredRecord>> ReadAsync(string runtimeId, string? afterId, int max, CancellationToken cancellationToken);

    /// <summary>Completes when a record after <paramref name="afterId"/> may exist, or when <paramref name="timeout"/> passes.</summary>
    Task WaitAsync(string runtimeId, string? afterId, TimeSpan timeout, CancellationToken cancellationToken);
}
