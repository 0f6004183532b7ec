using Bctrl.Relay.Observation;
using Bctrl.Relay.Splice;
using Bctrl.Relay.State;

namespace Bctrl.Relay.Attach;

/// <summary>
/// One timer for every attach (Kestrel's <c>Heartbeat</c>): it advances the splice clock, lets each attach send its
/// keep-alive ping and time out stalls, and sweeps expired in-memory records. Not a timer per connection.
/// </summary>
internal sealed class Heartbeat(
    AttachRegistry registry,
    SpliceClock clock,
    TimeProvider time,
    IConnectionStore connections,
    IRevocationView revocations,
    IAttachRecordStore attachRecords,
    ILogger<Heartbeat> logger) : BackgroundService
{
    /// <summary>Keep-alive and stall times are whole seconds in practice; a quarter-second tick keeps them within 25%.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = time.GetTimestamp();
        var lastSweep = started;
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            do
            {
                var now = (long)time.GetElapsedTime(started).TotalMilliseconds + 1;
                clock.Advance(now);
                foreach (var attach in registry.Live)
                {
                    attach.Splice.OnHeartbeat(now);
                }

                if (time.GetElapsedTime(lastSweep) >= SweepInterval)
                {
                    lastSweep = time.GetTimestamp();
                    Sweep();
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
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
