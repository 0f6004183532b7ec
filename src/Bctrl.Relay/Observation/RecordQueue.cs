using System.Diagnostics.Metrics;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Bctrl.Relay.Metrics;
using Bctrl.Relay.Options;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Observation;

/// <summary>
/// The bounded queue between the pumps and the event store (docs/design.md §6). A full queue drops the record and counts it;
/// nothing here ever waits, so the splice never waits on observation. Lock-free: a bounded <c>Channel</c> took one lock
/// shared by every attach on each record, and woke its reader per record; the record pump polls instead
/// (bench/README.md, recording on/off).
/// </summary>
internal sealed class RecordQueue : IRecordSink
{
    private readonly ConcurrentQueue<ObservationRecord> _records = new();
    private readonly int _capacity;
    private int _count;
    private readonly Histogram<double> _roundTrips;
    private long _dropped;

    public RecordQueue(IOptions<RelayOptions> options, RelayMetrics metrics)
    {
        _capacity = options.Value.Observation.QueueCapacity;
        var meter = metrics.Meter;
        _roundTrips = meter.CreateHistogram<double>("bctrl.relay.cdp.command.duration", "s", "CDP command round trip, from the command passing the relay to its result, by CDP domain.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        meter.CreateObservableCounter("bctrl.relay.observation.dropped", () => Volatile.Read(ref _dropped), "{record}", "Records dropped because the queue to the event store was full, or the store failed.");
        meter.CreateObservableUpDownCounter("bctrl.relay.observation.queued", () => Volatile.Read(ref _count), "{record}", "Records waiting for the event store.");
    }

    public int Count => Volatile.Read(ref _count);

    public long Dropped => Volatile.Read(ref _dropped);

    public bool TryWrite(ObservationRecord record)
    {
        if (Interlocked.Increment(ref _count) > _capacity)
        {
            Interlocked.Decrement(ref _count);
            Interlocked.Increment(ref _dropped);
            return false;
        }

        _records.Enqueue(record);
        return true;
    }

    public bool TryRead([MaybeNullWhen(false)] out ObservationRecord record)
    {
        if (!_records.TryDequeue(out record))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        return true;
    }

    public void CommandCompleted(string domain, TimeSpan roundTrip)
        => _roundTrips.Record(roundTrip.TotalSeconds, new KeyValuePair<string, object?>("cdp.domain", domain));

    /// <summary>Records the store failed to take count as dropped too.</summary>
    public void CountDropped(int count) => Interlocked.Add(ref _dropped, count);
}
