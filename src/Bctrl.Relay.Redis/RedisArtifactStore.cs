using System.Text.Json;
using Bctrl.Relay.Artifacts;
using Bctrl.Relay.Observation;
using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

/// <summary>
/// Artifacts in Redis for a fleet (docs/artifacts.md): a hash per artifact (its record and its bytes, each capped by
/// <c>Relay:Artifacts:MaxBytes</c> before it gets here) that expires after the retention, and a sorted set per runtime
/// that orders them and keeps at most <c>PerRuntime</c>: the save script drops the oldest beyond it, hashes and all.
/// Written on the fail-fast multiplexer, so an outage loses the artifact (counted) instead of queueing it.
/// </summary>
internal sealed class RedisArtifactStore(RedisConnections connections, RedisKeys keys, int perRuntime, TimeSpan retention) : IArtifactStore
{
    private static readonly RedisValue MetaField = "m";
    private static readonly RedisValue BytesField = "b";

    /// <summary>
    /// KEYS[1] the runtime's index, KEYS[2] the artifact; ARGV id, created ms, record, bytes, time to live ms, count kept,
    /// the prefix of the runtime's artifact keys (same hash tag as KEYS[1]).
    /// </summary>
    private const string SaveScript = """
        redis.call('HSET', KEYS[2], 'm', ARGV[3], 'b', ARGV[4])
        redis.call('PEXPIRE', KEYS[2], ARGV[5])
        redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
        redis.call('PEXPIRE', KEYS[1], ARGV[5])
        local keep = tonumber(ARGV[6])
        local over = redis.call('ZCARD', KEYS[1]) - keep
        if over > 0 then
          local old = redis.call('ZRANGE', KEYS[1], 0, over - 1)
          for _, id in ipairs(old) do
            redis.call('DEL', ARGV[7] .. id)
          end
          redis.call('ZREMRANGEBYRANK', KEYS[1], 0, over - 1)
        end
        return 1
        """;

    public async ValueTask SaveAsync(ArtifactRecord record, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var db = (await connections.Side.WaitAsync(cancellationToken)).GetDatabase();
        await db.ScriptEvaluateAsync(SaveScript, [keys.RuntimeArtifacts(record.RuntimeId), keys.Artifact(record.RuntimeId, record.Id)],
        [
            record.Id,
            record.CreatedAt.ToUnixTimeMilliseconds(),
            JsonSerializer.SerializeToUtf8Bytes(record, ObservationJson.Default.ArtifactRecord),
            content,
            (long)retention.TotalMilliseconds,
            perRuntime,
            keys.ArtifactPrefix(record.RuntimeId),
        ]).WaitAsync(cancellationToken);
    }

    public async ValueTask<IReadOnlyList<ArtifactRecord>> ListAsync(string runtimeId, CancellationToken cancellationToken)
    {
        var db = (await connections.Side.WaitAsync(cancellationToken)).GetDatabase();
        var index = keys.RuntimeArtifacts(runtimeId);
        var ids = await db.SortedSetRangeByRankAsync(index).WaitAsync(cancellationToken);
        var reads = new Task<RedisValue>[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            reads[i] = db.HashGetAsync(keys.Artifact(runtimeId, (string)ids[i]!), MetaField);
        }

        var records = new List<ArtifactRecord>(ids.Length);
        var gone = new List<RedisValue>();
        for (var i = 0; i < ids.Length; i++)
        {
            var meta = await reads[i].WaitAsync(cancellationToken);
            if (Decode(meta) is { } record && record.RuntimeId == runtimeId)
            {
                records.Add(record);
            }
            else
            {
                gone.Add(ids[i]);
            }
        }

        if (gone.Count > 0)
        {
            _ = db.SortedSetRemoveAsync(index, [.. gone], CommandFlags.FireAndForget); // expired hashes
        }

        return records;
    }

    public async ValueTask<StoredArtifact?> GetAsync(string runtimeId, string artifactId, CancellationToken cancellationToken)
    {
        var db = (await connections.Side.WaitAsync(cancellationToken)).GetDatabase();
        var values = await db.HashGetAsync(keys.Artifact(runtimeId, artifactId), [MetaField, BytesField]).WaitAsync(cancellationToken);
        return Decode(values[0]) is { } record && record.RuntimeId == runtimeId && !values[1].IsNull
            ? new StoredArtifact(record, (byte[])values[1]!)
            : null;
    }

    private static ArtifactRecord? Decode(RedisValue meta)
    {
        if (meta.IsNull)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize((byte[])meta!, ObservationJson.Default.ArtifactRecord);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
