using System.Globalization;
using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

/// <summary>
/// Runs <see cref="FleetScripts"/>: changes of the view on the state multiplexer (they wait out a blip), pings and
/// snapshots on the side one (they fail fast and are simply tried again).
/// </summary>
internal sealed class FleetWriter(RedisConnections connections, RedisKeys keys, string nodeId, TimeProvider time)
{
    public string NodeId { get; } = nodeId;

    public async Task<long> RevokeAsync(Guid connectionId, long pruneAfter, bool terminate)
    {
        var result = await EvaluateAsync(connections.State, FleetScripts.Revoke, keys.Fleet,
            connectionId.ToString("N"), pruneAfter, terminate ? "1" : "0", NowSeconds());
        return (long)result;
    }

    /// <summary>Returns whether it created, and the version of the change.</summary>
    public async Task<(bool Created, long Version)> PutRuntimeAsync(string runtimeId, string value)
    {
        var result = (RedisResult[])(await EvaluateAsync(connections.State, FleetScripts.PutRuntime, keys.Fleet, runtimeId, value))!;
        return ((long)result[0] == 1, (long)result[1]);
    }

    /// <summary>Returns whether it existed, and the version after the change.</summary>
    public async Task<(bool Deleted, long Version)> DeleteRuntimeAsync(string runtimeId)
    {
        var result = (RedisResult[])(await EvaluateAsync(connections.State, FleetScripts.DeleteRuntime, keys.Fleet, runtimeId))!;
        return ((long)result[0] == 1, (long)result[1]);
    }

    public async Task PingAsync(long sequence, TimeSpan nodeTimeout)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await EvaluateAsync(connections.Side, FleetScripts.Ping, keys.Fleet,
            sequence, now, now - (long)(nodeTimeout.TotalMilliseconds * 10));
    }

    public async Task<FleetSnapshot> SnapshotAsync()
        => FleetSnapshot.Parse(await EvaluateAsync(connections.Side, FleetScripts.Snapshot, keys.Fleet, NowSeconds()));

    /// <summary>Writes back one batch of what this node held after Redis lost the state of <paramref name="lostEpoch"/>.</summary>
    public async Task ReseedAsync(string lostEpoch, IReadOnlyList<KeyValuePair<Guid, Revocation>> revocations, IReadOnlyList<KeyValuePair<string, string>> runtimes)
    {
        var args = new List<RedisValue>(6 + (revocations.Count * 3) + (runtimes.Count * 2))
        {
            NewEpoch(), keys.ChannelName, NodeId, NowSeconds(), lostEpoch, revocations.Count,
        };
        foreach (var (id, revocation) in revocations)
        {
            args.Add(id.ToString("N"));
            args.Add(revocation.PruneAfter);
            args.Add(revocation.Terminate ? "1" : "0");
        }

        foreach (var (id, value) in runtimes)
        {
            args.Add(id);
            args.Add(value);
        }

        var db = (await connections.State).GetDatabase();
        await db.ScriptEvaluateAsync(FleetScripts.Reseed, [.. keys.Fleet, keys.Reseeded(lostEpoch)], [.. args]);
    }

    private long NowSeconds() => time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>An epoch for Redis to take if it has none: 8 random hex digits.</summary>
    private static string NewEpoch() => Random.Shared.Next().ToString("x8", CultureInfo.InvariantCulture);

    private async Task<RedisResult> EvaluateAsync(Task<ConnectionMultiplexer> multiplexer, string script, RedisKey[] fleetKeys, params RedisValue[] args)
    {
        var db = (await multiplexer).GetDatabase();
        return await db.ScriptEvaluateAsync(script, fleetKeys, [NewEpoch(), keys.ChannelName, NodeId, .. args]);
    }
}
