namespace Bctrl.Relay.Redis;

/// <summary>
/// The version of the fleet state this node has applied, and the writers waiting to read their own write: a runtime put
/// through this node is served from the node's mirror once the channel has brought it back.
/// </summary>
internal sealed class FleetVersion
{
    private readonly Lock _lock = new();
    private readonly List<(long Version, TaskCompletionSource Done)> _waiters = [];
    private long _applied = -1;

    public long Applied => Volatile.Read(ref _applied);

    /// <summary>Records <paramref name="version"/> as applied; <paramref name="reset"/> (after a snapshot) may go backwards.</summary>
    public void Set(long version, bool reset = false)
    {
        lock (_lock)
        {
            if (!reset && version <= _applied)
            {
                return;
            }

            Volatile.Write(ref _applied, version);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                // After a reset (a snapshot, perhaps of a new epoch) every waiter reads the snapshot: let them all go.
                if (reset || _waiters[i].Version <= version)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Waits until <paramref name="version"/> is applied, at most <paramref name="timeout"/>; never throws on timeout.</summary>
    public async Task WaitAsync(long version, TimeSpan timeout, TimeProvider time)
    {
        TaskCompletionSource done;
        lock (_lock)
        {
            if (version <= _applied)
            {
                return;
            }

            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((version, done));
        }

        try
        {
            await done.Task.WaitAsync(timeout, time);
        }
        catch (TimeoutException)
        {
            lock (_lock)
            {
                _waiters.RemoveAll(w => w.Done == done);
            }
        }
    }
}
