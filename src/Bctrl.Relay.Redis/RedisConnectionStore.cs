using Bctrl.Relay.Leases;
using Bctrl.Relay.State;
using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

/// <summary>
/// Leases as hashes <c>prefix:conn:{id}</c> (fields rt, p, c, e, d, s when scoped, pol with a policy, q with quotas, art when it keeps artifacts, and one n:NODE per node that attached it) that expire <see cref="RedisStateSettings.ConnectionRetention"/> after the
/// lease does, indexed per runtime in <c>prefix:rt:{runtime}:conns</c> (a sorted set that expires with its last lease).
/// Attach counts are written by <see cref="NodeAttachCounts"/> and summed over the nodes still heard from.
/// <para>Every command is awaited with the caller's cancellation token (StackExchange.Redis ignores it once a command is
/// sent): the control API's deadline ends the wait, though not the command, which may still take effect later.</para>
/// </summary>
internal sealed class RedisConnectionStore(
    RedisConnections connections, RedisKeys keys, NodeAttachCounts counts, RedisStateSettings settings, TimeProvider time, TimeSpan readBound)
    : IConnectionStore
{
    /// <summary>
    /// KEYS[1] the record; ARGV runtime, protocol, created ms, expires ms, keep-until ms, scope target ("" for none),
    /// policy ("" for none), quotas ("" for none), artifacts ("1" or "").
    /// Returns 0 if it exists.
    /// </summary>
    private const string CreateScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then
          return 0
        end
        redis.call('HSET', KEYS[1], 'rt', ARGV[1], 'p', ARGV[2], 'c', ARGV[3], 'e', ARGV[4])
        if ARGV[6] ~= '' then
          redis.call('HSET', KEYS[1], 's', ARGV[6])
        end
        if ARGV[7] ~= '' then
          redis.call('HSET', KEYS[1], 'pol', ARGV[7])
        end
        if ARGV[8] ~= '' then
          redis.call('HSET', KEYS[1], 'q', ARGV[8])
        end
        if ARGV[9] ~= '' then
          redis.call('HSET', KEYS[1], 'art', ARGV[9])
        end
        redis.call('PEXPIREAT', KEYS[1], ARGV[5])
        return 1
        """;

    /// <summary>KEYS[1] the runtime's index; ARGV connection id, created ms, time to live (ms) of the new lease record.</summary>
    private const string IndexScript = """
        redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
        local ttl = tonumber(ARGV[3])
        local current = redis.call('PTTL', KEYS[1])
        if current == -1 or current < ttl then
          redis.call('PEXPIRE', KEYS[1], ttl)
        end
        return 1
        """;

    /// <summary>KEYS[1] the record; ARGV deleted ms. Keeps the first deletion time; returns the fields, or nil.</summary>
    private const string MarkDeletedScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then
          return false
        end
        redis.call('HSETNX', KEYS[1], 'd', ARGV[1])
        return redis.call('HMGET', KEYS[1], 'rt', 'p', 'c', 'e', 'd', 's', 'pol', 'q', 'art')
        """;

    private static readonly RedisValue[] RecordFields = ["rt", "p", "c", "e", "d", "s", "pol", "q", "art"];

    private static readonly RedisValue[] StandingFields = ["rt", "d", "pol", "q", "art"];

    public async ValueTask CreateAsync(ConnectionRecord connection, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken);
        var keepUntil = connection.ExpiresAt + settings.ConnectionRetention;
        var created = await db.ScriptEvaluateAsync(CreateScript, [keys.Connection(connection.Id)],
        [
            connection.RuntimeId,
            (int)connection.Protocol,
            connection.CreatedAt.ToUnixTimeMilliseconds(),
            connection.ExpiresAt.ToUnixTimeMilliseconds(),
            keepUntil.ToUnixTimeMilliseconds(),
            connection.ScopeTarget ?? string.Empty,
            connection.Policy ?? string.Empty,
            connection.Quotas ?? string.Empty,
            connection.Artifacts ? "1" : string.Empty,
        ]).WaitAsync(cancellationToken);
        if ((long)created == 0)
        {
            throw new InvalidOperationException("A connection with this id exists already.");
        }

        var ttl = (long)(keepUntil - time.GetUtcNow()).TotalMilliseconds;
        await db.ScriptEvaluateAsync(IndexScript, [keys.RuntimeConnections(connection.RuntimeId)],
            [connection.Id.ToString("N"), connection.CreatedAt.ToUnixTimeMilliseconds(), Math.Max(1000, ttl)]).WaitAsync(cancellationToken);
    }

    public async ValueTask<ConnectionRecord?> GetAsync(Guid connectionId, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken);
        return Decode(connectionId, await db.HashGetAsync(keys.Connection(connectionId), RecordFields).WaitAsync(cancellationToken));
    }

    public async ValueTask<LeaseCheck> CheckAsync(Guid connectionId, string runtimeId, CancellationToken cancellationToken)
    {
        // The fail-fast multiplexer: an attach must not queue behind an outage (a disconnected Redis refuses at once),
        // and the wait is bounded like every Redis read on the attach path (a paused Redis never answers).
        RedisValue[] values;
        try
        {
            var db = (await connections.Side.WaitAsync(readBound, time, cancellationToken)).GetDatabase();
            values = await db.HashGetAsync(keys.Connection(connectionId), StandingFields).WaitAsync(readBound, time, cancellationToken);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // A command the library timed out is a RedisTimeoutException, itself a TimeoutException.
            return new LeaseCheck(LeaseStanding.Unavailable);
        }

        return new LeaseCheck(
            LeaseStandings.Of(values[0].IsNull ? null : (string)values[0]!, deleted: !values[1].IsNull, runtimeId),
            values[2].IsNull ? null : (string)values[2]!,
            values[3].IsNull ? null : (string)values[3]!,
            !values[4].IsNull);
    }

    public async ValueTask<IReadOnlyList<ConnectionRecord>> ListAsync(string runtimeId, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken);
        var index = keys.RuntimeConnections(runtimeId);
        var members = await db.SortedSetRangeByRankAsync(index, order: Order.Descending).WaitAsync(cancellationToken);
        var reads = new Task<RedisValue[]>[members.Length];
        var ids = new Guid[members.Length];
        for (var i = 0; i < members.Length; i++)
        {
            FleetSnapshot.TryParseId(members[i], out ids[i]);
            reads[i] = db.HashGetAsync(keys.Connection(ids[i]), RecordFields);
        }

        var records = new List<ConnectionRecord>(members.Length);
        var gone = new List<RedisValue>();
        for (var i = 0; i < members.Length; i++)
        {
            if (Decode(ids[i], await reads[i].WaitAsync(cancellationToken)) is { } record && record.RuntimeId == runtimeId)
            {
                records.Add(record);
            }
            else
            {
                gone.Add(members[i]);
            }
        }

        if (gone.Count > 0)
        {
            // Records that expired: drop them from the index on the side; the next list tries again if this fails.
            _ = db.SortedSetRemoveAsync(index, [.. gone], CommandFlags.FireAndForget);
        }

        return [.. records.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id)];
    }

    public async ValueTask<ConnectionRecord?> MarkDeletedAsync(Guid connectionId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken);
        var result = await db.ScriptEvaluateAsync(MarkDeletedScript, [keys.Connection(connectionId)], [at.ToUnixTimeMilliseconds()])
            .WaitAsync(cancellationToken);
        return result.IsNull ? null : Decode(connectionId, (RedisValue[])result!);
    }

    /// <summary>
    /// Sums the nodes' fields (<see cref="NodeAttachCounts"/>): totals of every node that ever attached the lease, live
    /// counts only of nodes heard from within the node timeout.
    /// </summary>
    public async ValueTask<AttachCounts> GetAttachCountsAsync(Guid connectionId, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken);
        var fields = await db.HashGetAllAsync(keys.Connection(connectionId)).WaitAsync(cancellationToken);
        long total = 0;
        var nodes = new List<RedisValue>();
        var live = new List<long>();
        foreach (var field in fields)
        {
            var name = (string)field.Name!;
            if (name.StartsWith(NodeAttachCounts.FieldPrefix, StringComparison.Ordinal)
                && NodeAttachCounts.TryParse(field.Value, out var nodeLive, out var nodeTotal))
            {
                total += nodeTotal;
                if (nodeLive > 0)
                {
                    nodes.Add(name[NodeAttachCounts.FieldPrefix.Length..]);
                    live.Add(nodeLive);
                }
            }
        }

        long liveSum = 0;
        if (nodes.Count > 0)
        {
            var heard = await db.SortedSetScoresAsync(keys.Nodes, [.. nodes]).WaitAsync(cancellationToken);
            var since = time.GetUtcNow().ToUnixTimeMilliseconds() - (long)settings.NodeTimeout.TotalMilliseconds;
            for (var i = 0; i < nodes.Count; i++)
            {
                if (heard[i] is { } lastHeard && lastHeard >= since)
                {
                    liveSum += live[i];
                }
            }
        }

        return new AttachCounts(liveSum, total);
    }

    public ValueTask AttachOpenedAsync(Guid connectionId, CancellationToken cancellationToken)
    {
        counts.Opened(connectionId);
        return ValueTask.CompletedTask;
    }

    public ValueTask AttachClosedAsync(Guid connectionId, CancellationToken cancellationToken)
    {
        counts.Closed(connectionId);
        return ValueTask.CompletedTask;
    }

    private async ValueTask<IDatabase> DatabaseAsync(CancellationToken cancellationToken)
        => (await connections.State.WaitAsync(cancellationToken)).GetDatabase();

    private static ConnectionRecord? Decode(Guid connectionId, RedisValue[] values)
    {
        if (values.Length < 5 || values[0].IsNull)
        {
            return null;
        }

        return new ConnectionRecord(
            connectionId,
            (string)values[0]!,
            (LeaseProtocol)(int)values[1],
            DateTimeOffset.FromUnixTimeMilliseconds((long)values[2]),
            DateTimeOffset.FromUnixTimeMilliseconds((long)values[3]),
            values[4].IsNull ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)values[4]),
            values.Length > 5 && !values[5].IsNull ? (string)values[5]! : null,
            values.Length > 6 && !values[6].IsNull ? (string)values[6]! : null,
            values.Length > 7 && !values[7].IsNull ? (string)values[7]! : null,
            values.Length > 8 && !values[8].IsNull);
    }
}
