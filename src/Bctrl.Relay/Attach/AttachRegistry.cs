using System.Collections.Concurrent;
using Bctrl.Relay.Splice;

namespace Bctrl.Relay.Attach;

/// <summary>
/// The node's live attaches: counted for capacity, walked by the heartbeat, and closed by connection (terminate) or
/// all at once (drain). No lock is shared across attaches.
/// </summary>
internal sealed class AttachRegistry
{
    private readonly ConcurrentDictionary<long, LiveAttach> _live = new();
    // Attach ids must not collide across the nodes of a fleet (attach metadata is kept by id in Redis): each process
    // starts counting at a random point, kept under 2^53 so that JavaScript readers of the JSON see them exactly.
    private long _nextId = Random.Shared.NextInt64(1L << 44) << 8;
    private int _draining;
    private int _places;

    /// <summary>Attaches splicing now.</summary>
    public int LiveCount => _live.Count;

    /// <summary>Places taken: live attaches and attaches being set up.</summary>
    public int Count => Volatile.Read(ref _places);

    public bool IsDraining => Volatile.Read(ref _draining) != 0;

    /// <summary>Enumerates without a snapshot: <c>ConcurrentDictionary.Values</c> would take every bucket lock and copy.</summary>
    public IEnumerable<LiveAttach> Live
    {
        get
        {
            foreach (var pair in _live)
            {
                yield return pair.Value;
            }
        }
    }

    public long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>
    /// Takes a place for an attach about to be set up, atomically, so that racing attaches cannot both pass the limit
    /// (0: no limit). Every place taken is given back with <see cref="ReleasePlace"/>.
    /// </summary>
    public bool TryTakePlace(int limit)
    {
        if (Interlocked.Increment(ref _places) <= limit || limit <= 0)
        {
            return true;
        }

        Interlocked.Decrement(ref _places);
        return false;
    }

    public void ReleasePlace() => Interlocked.Decrement(ref _places);

    public void Add(LiveAttach attach) => _live[attach.Id] = attach;

    public void Remove(LiveAttach attach) => _live.TryRemove(attach.Id, out _);

    /// <summary>Closes every live attach of one connection; returns how many.</summary>
    public int Terminate(Guid connectionId)
    {
        var count = 0;
        foreach (var attach in Live)
        {
            if (attach.ConnectionId == connectionId)
            {
                attach.Splice.Abort(AttachEndReason.LeaseTerminated);
                count++;
            }
        }

        return count;
    }

    /// <summary>Refuses new attaches from now on and closes the live ones with 1001.</summary>
    public void Drain()
    {
        Volatile.Write(ref _draining, 1);
        foreach (var attach in Live)
        {
            attach.Splice.Abort(AttachEndReason.Draining);
        }
    }
}
