using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Bctrl.Relay.Metrics;
using Bctrl.Relay.Options;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Observation;

/// <summary>
/// The bounded queue between the pumps and the event store (design §6). A full queue drops the record and counts it;
/// nothing here ever waits, so the splice never waits on observation.
/// </summary>
internal sealed class RecordQueue : IRecordSink
{
    private readonly Channel<ObservationRecord> _channel;
    private readonly Histogram<double> _roundTrips;
    private long _dropped;

    public RecordQueue(IOptions<RelayOptions> options, RelayMetrics metrics)
    {
        _channel = Channel.CreateBounded<ObservationRecord>(new BoundedChannelOptions(options.Value.Observation.QueueCapacity)
        {
            // Wait mode with TryWrite only: TryWrite answers false when full, which is how drops are counted.
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        var meter = metrics.Meter;
        _roundTrips = meter.CreateHistogram<double>("bctrl.relay.cdp.command.duration", "s", "CDP command round trip, from the command passing the relay to its result, by CDP domain.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        meter.CreateObservableCounter("bctrl.relay.observation.dropped", () => Volatile.Read(ref _dropped), "{record}", "Records dropped because the queue to the event store was full, or the store failed.");
        meter.CreateObservableUpDownCounter("bctrl.relay.observation.queued", () => _channel.Reader.Count, "{record}", "Records waiting for the event store.");
    }

    public ChannelReader<ObservationRecord> Reader => _channel.Reader;

    public long Dropped => Volatile.Read(ref _dropped);

    public bool TryWrite(ObservationRecord record)
    {
        if (_channel.Writer.TryWrite(record))
        {
            return true;
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }

    public void CommandCompleted(string domain, TimeSpan roundTrip)
        => _roundTrips.Record(roundTrip.TotalSeconds, new KeyValuePair<string, object?>("cdp.domain", domain));

    /// <summary>Records the store failed to take count as dropped too.</summary>
    public void CountDropped(int count) => Interlocked.Add(ref _dropped, count);
}
