using Bctrl.Relay.Observation;
using Bctrl.Relay.Options;
using Bctrl.Relay.Splice;
using Bctrl.Relay.State;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Attach;

/// <summary>
/// One timer for every attach (Kestrel's <c>Heartbeat</c>): it advances the splice clock, lets each attach send its
/// keep-alive ping and time out stalls, sweeps expired in-memory records, and writes the summary of refused requests.
/// Not a timer per connection.
/// </summary>
internal sealed class Heartbeat(
    AttachRegistry registry,
    SpliceClock clock,
    TimeProvider time,
    IConnectionStore connections,
    IRevocationView revocations,
    IAttachRecordStore attachRecords,
    RefusalSummary refusals,
    IOptions<RelayOptions> options,
    ILogger<Heartbeat> logger) : BackgroundService
{
    /// <summary>Keep-alive and stall times are whole seconds in practice; a quarter-second tick keeps them within 25%.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    private const long YoungGarbageBytes = 4L << 20;

    private int _youngCollections;
    private long _allocatedAtCollection;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = time.GetTimestamp();
        var lastSweep = started;
        var lastSummary = started;
        var summaryInterval = options.Value.Log.RefusalSummaryInterval;
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            do
            {
                var now = (long)time.GetElapsedTime(started).TotalMilliseconds + 1;
                clock.Advance(now);
                CollectSetUpGarbage();
                foreach (var attach in registry.Live)
                {
                    attach.Splice.OnHeartbeat(now);
                }

                if (time.GetElapsedTime(lastSweep) >= SweepInterval)
                {
                    lastSweep = time.GetTimestamp();
                    Sweep();
                }

                if (time.GetElapsedTime(lastSummary) >= summaryInterval)
                {
                    Summarise(ref lastSummary);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: the refusals since the last summary are not lost.
            Summarise(ref lastSummary);
        }
    }

    /// <summary>
    /// Collects the youngest generation once more than <see cref="YoungGarbageBytes"/> were allocated since the last
    /// collection of it. Setting an attach up allocates its HTTP phase's objects (Kestrel's, the dial's), all garbage
    /// once the splice runs; left to its default budget (tens of MiB here) the collector lets them sit in the process's
    /// memory, and memory per idle attach is what an edge node is sized by (issue 9). A young collection of mostly
    /// garbage costs little, and at most four a second.
    /// </summary>
    private void CollectSetUpGarbage()
    {
        var allocated = GC.GetTotalAllocatedBytes();
        var collections = GC.CollectionCount(0);
        if (collections != _youngCollections)
        {
            _youngCollections = collections;
            _allocatedAtCollection = allocated;
            return;
        }

        if (allocated - _allocatedAtCollection >= YoungGarbageBytes)
        {
            GC.Collect(1, GCCollectionMode.Forced, blocking: true, compacting: false);
            _youngCollections = GC.CollectionCount(0);
            _allocatedAtCollection = allocated;
        }
    }

    private void Summarise(ref long lastSummary)
    {
        var seconds = time.GetElapsedTime(lastSummary).TotalSeconds;
        lastSummary = time.GetTimestamp();
        var (count, codes) = refusals.Take();
        if (count > 0)
        {
            RelayLog.RefusalsSummarised(logger, count, Math.Round(seconds, 1), codes);
        }
    }

    private void Sweep()
    {
        var now = time.GetUtcNow();
        // An in-memory connection that is swept takes its attach metadata with it; the store never forgot it before.
        var droppedConnections = (connections as InMemoryConnectionStore)?.Sweep(now) ?? [];
        foreach (var connectionId in droppedConnections)
        {
            (attachRecords as InMemoryAttachRecordStore)?.Forget(connectionId);
        }

        var dropped = droppedConnections.Count + ((revocations as InMemoryRevocationView)?.Sweep(now) ?? 0);
        if (dropped > 0)
        {
            RelayLog.Swept(logger, dropped);
        }
    }
}
