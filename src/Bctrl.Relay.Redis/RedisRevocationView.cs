using System.Collections.Concurrent;
using Bctrl.Relay.State;
using Microsoft.Extensions.Logging;

namespace Bctrl.Relay.Redis;

/// <summary>
/// The node's revocations, in memory, kept fresh from Redis by <see cref="FleetSync"/> (docs/design.md §5). <see cref="IsRevoked"/>
/// is a lock-free dictionary read and never does I/O; <see cref="Age"/> is the time since the view was last confirmed to
/// hold every revocation made in the fleet (a snapshot, or this node's ping coming back through the channel).
/// </summary>
internal sealed class RedisRevocationView(FleetWriter writer, TimeProvider time, TimeSpan grace, ILogger logger) : IRevocationView
{
    // Writers (the sync loop, this node's own revocations) take the lock; readers never do.
    private readonly Lock _writeLock = new();
    private ConcurrentDictionary<Guid, Revocation> _revoked = new();
    private long _freshTimestamp;
    private int _everFresh;

    public event Action<Guid>? Terminated;

    /// <summary><see cref="TimeSpan.MaxValue"/> until the first confirmation: a node that never heard from Redis is stale.</summary>
    public TimeSpan Age => Volatile.Read(ref _everFresh) == 0 ? TimeSpan.MaxValue : time.GetElapsedTime(Volatile.Read(ref _freshTimestamp));

    public int Count => Volatile.Read(ref _revoked).Count;

    public bool IsRevoked(Guid connectionId) => Volatile.Read(ref _revoked).ContainsKey(connectionId);

    public async ValueTask RevokeAsync(Guid connectionId, DateTimeOffset expiresAt, bool terminate, CancellationToken cancellationToken)
    {
        var revocation = new Revocation((expiresAt + grace).ToUnixTimeSeconds(), terminate);
        await writer.RevokeAsync(connectionId, revocation.PruneAfter, terminate).WaitAsync(cancellationToken);

        // Applied here at once: this node refuses the lease from now on, before its message comes back.
        Apply(connectionId, revocation);
        if (terminate)
        {
            RaiseTerminated(connectionId);
        }
    }

    /// <summary>Records that the view held every change made in the fleet up to <paramref name="timestamp"/>.</summary>
    public void MarkFresh(long timestamp)
    {
        long current;
        do
        {
            current = Volatile.Read(ref _freshTimestamp);
            if (Volatile.Read(ref _everFresh) != 0 && timestamp <= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _freshTimestamp, timestamp, current) != current);

        Volatile.Write(ref _everFresh, 1);
    }

    /// <summary>Adds or widens one revocation; returns true when it newly asks for termination.</summary>
    public bool Apply(Guid connectionId, Revocation revocation)
    {
        lock (_writeLock)
        {
            var revoked = _revoked;
            var newlyTerminated = revocation.Terminate;
            if (revoked.TryGetValue(connectionId, out var existing))
            {
                newlyTerminated &= !existing.Terminate;
                revocation = new Revocation(Math.Max(existing.PruneAfter, revocation.PruneAfter), existing.Terminate || revocation.Terminate);
            }

            revoked[connectionId] = revocation;
            return newlyTerminated;
        }
    }

    /// <summary>
    /// Replaces the view with a snapshot, or merges it in (<paramref name="merge"/>, after Redis lost the state);
    /// returns the revocations that newly ask for termination.
    /// </summary>
    public List<Guid> Replace(Dictionary<Guid, Revocation> snapshot, bool merge)
    {
        var next = new ConcurrentDictionary<Guid, Revocation>(concurrencyLevel: 1, capacity: snapshot.Count);
        var newlyTerminated = new List<Guid>();
        lock (_writeLock)
        {
            var previous = _revoked;
            foreach (var (id, revocation) in snapshot)
            {
                next[id] = revocation;
                if (revocation.Terminate && !(previous.TryGetValue(id, out var before) && before.Terminate))
                {
                    newlyTerminated.Add(id);
                }
            }

            if (merge)
            {
                foreach (var (id, revocation) in previous)
                {
                    next.TryAdd(id, revocation);
                }
            }

            Volatile.Write(ref _revoked, next);
        }

        return newlyTerminated;
    }

    /// <summary>What the view holds, for writing it back to a Redis that lost it.</summary>
    public List<KeyValuePair<Guid, Revocation>> Entries() => [.. Volatile.Read(ref _revoked)];

    /// <summary>Drops revocations of leases that have expired on their own.</summary>
    public int Prune(long nowSeconds)
    {
        var dropped = 0;
        lock (_writeLock)
        {
            foreach (var (id, revocation) in _revoked)
            {
                if (revocation.PruneAfter < nowSeconds && _revoked.TryRemove(id, out _))
                {
                    dropped++;
                }
            }
        }

        return dropped;
    }

    public void RaiseTerminated(Guid connectionId)
    {
        try
        {
            Terminated?.Invoke(connectionId);
        }
        catch (Exception exception)
        {
            RedisLog.TerminateFailed(logger, connectionId, exception);
        }
    }
}
