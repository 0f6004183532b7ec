namespace Bctrl.Relay.Observation;

/// <summary>Moves records from the queue to the event store in batches, on its own task, off the splice.</summary>
internal sealed class RecordPump(RecordQueue queue, IEventStore store, ILogger<RecordPump> logger) : BackgroundService
{
    private const int BatchSize = 256;

    // The queue is polled: after a short batch the pump waits this long, so a steady trickle of records costs one
    // wake-up per interval instead of one per record (each wake-up is a thread-pool hop on the relay's cores). It is
    // also the most a record waits before a reader of the event stream can see it.
    private static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(20);

    // One warning per this long while the store keeps failing (a paused Redis fails every batch).
    private static readonly TimeSpan WarnEvery = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<ObservationRecord>(BatchSize);
        var lastWarning = DateTime.MinValue;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                while (batch.Count < BatchSize && queue.TryRead(out var record))
                {
                    batch.Add(record);
                }

                if (batch.Count > 0)
                {
                    try
                    {
                        await store.AppendAsync(batch, stoppingToken);
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException)
                    {
                        queue.CountDropped(batch.Count);
                        if (DateTime.UtcNow - lastWarning >= WarnEvery)
                        {
                            lastWarning = DateTime.UtcNow;
                            RelayLog.EventStoreFailed(logger, batch.Count, exception.GetType().Name);
                        }
                    }
                }

                var full = batch.Count == BatchSize;
                batch.Clear();
                if (!full)
                {
                    await Task.Delay(Gather, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: what is still queued is dropped with the process.
        }
    }
}
