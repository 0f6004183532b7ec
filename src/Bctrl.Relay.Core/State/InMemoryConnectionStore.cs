using System.Collections.Concurrent;

namespace Bctrl.Relay.State;

/// <summary>
/// The embedded default's connection store. Records stay for <see cref="Retention"/> after they expire, so that a
/// <c>GET</c> can still say "expired", then <see cref="Sweep"/> drops them. The attach gate refuses a lease without a
/// record, so a record must also outlive its token, which verifies until expiry plus the clock skew (at most 5 minutes,
/// <c>Relay:Leases:ClockSkew</c>): the hour covers that.
/// </summary>
internal sealed class InMemoryConnectionStore : IConnectionStore
{
    public static readonly TimeSpan Retention = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<Guid, Entry> _connections = new();

    public ValueTask CreateAsync(ConnectionRecord connection, CancellationToken cancellationToken)
    {
        if (!_connections.TryAdd(connection.Id, new Entry(connection)))
        {
            throw new InvalidOperationException("A connection with this id exists already.");
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<ConnectionRecord?> GetAsync(Guid connectionId, CancellationToken cancellationToken)
        => ValueTask.FromResult(_connections.TryGetValue(connectionId, out var entry) ? entry.Record : null);

    public ValueTask<LeaseCheck> CheckAsync(Guid connectionId, string runtimeId, CancellationToken cancellationToken)
    {
        var record = _connections.TryGetValue(connectionId, out var entry) ? entry.Record : null;
        return ValueTask.FromResult(new LeaseCheck(LeaseStandings.Of(record?.RuntimeId, record?.DeletedAt is not null, runtimeId), record?.Policy, record?.Quotas, record?.Artifacts == true));
    }

    public ValueTask<IReadOnlyList<ConnectionRecord>> ListAsync(string runtimeId, CancellationToken cancellationToken)
        => ValueTask.FromResult<IReadOnlyList<ConnectionRecord>>(_connections.Values
            .Select(e => e.Record)
            .Where(r => string.Equals(r.RuntimeId, runtimeId, StringComparison.Ordinal))
            .OrderByDescending(r => r.CreatedAt)
            .ThenByDescending(r => r.Id)
            .ToArray());

    public ValueTask<ConnectionRecord?> MarkDeletedAsync(Guid connectionId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (!_connections.TryGetValue(connectionId, out var entry))
        {
            return ValueTask.FromResult<ConnectionRecord?>(null);
        }

        lock (entry)
        {
            entry.Record = entry.Record with { DeletedAt = entry.Record.DeletedAt ?? at };
            return ValueTask.FromResult<ConnectionRecord?>(entry.Record);
        }
    }

    public ValueTask<AttachCounts> GetAttachCountsAsync(Guid connectionId, CancellationToken cancellationToken)
        => ValueTask.FromResult(_connections.TryGetValue(connectionId, out var entry)
            ? new AttachCounts(Volatile.Read(ref entry.Live), Volatile.Read(ref entry.Total))
            : default);

    public ValueTask AttachOpenedAsync(Guid connectionId, CancellationToken cancellationToken)
    {
        if (_connections.TryGetValue(connectionId, out var entry))
        {
            Interlocked.Increment(ref entry.Live);
            Interlocked.Increment(ref entry.Total);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask AttachClosedAsync(Guid connectionId, CancellationToken cancellationToken)
    {
        if (_connections.TryGetValue(connectionId, out var entry))
        {
            Interlocked.Decrement(ref entry.Live);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Drops records that expired more than <see cref="Retention"/> ago and have no live attach; returns their ids.</summary>
    public IReadOnlyList<Guid> Sweep(DateTimeOffset now)
    {
        List<Guid>? dropped = null;
        foreach (var (id, entry) in _connections)
        {
            if (entry.Record.ExpiresAt + Retention < now && Volatile.Read(ref entry.Live) == 0 && _connections.TryRemove(id, out _))
            {
                (dropped ??= []).Add(id);
            }
        }

        return dropped ?? (IReadOnlyList<Guid>)[];
    }

    private sealed class Entry(ConnectionRecord record)
    {
        public ConnectionRecord Record = record;
        public long Live;
        public long Total;
    }
}
