using System.Collections.Concurrent;
using Bctrl.Relay.State;
using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

/// <summary>
/// Runtimes in the hash <c>{prefix}:runtimes</c>, mirrored in memory by <see cref="FleetSync"/> like the revocations:
/// the lease gate resolves a runtime on every attach, and an attach never waits on Redis. A runtime missing from the
/// mirror (created a moment ago on another node) is read from Redis, bounded by the staleness limit.
/// </summary>
internal sealed class RedisRuntimeStore(
    RedisConnections connections, RedisKeys keys, FleetWriter writer, FleetVersion version, TimeProvider time, TimeSpan readBound) : IRuntimeStore
{
    private ConcurrentDictionary<string, RuntimeRecord> _mirror = new(StringComparer.Ordinal);

    public int MirrorCount => Volatile.Read(ref _mirror).Count;

    public ValueTask<RuntimeRecord?> GetAsync(string runtimeId, CancellationToken cancellationToken)
        => Volatile.Read(ref _mirror).TryGetValue(runtimeId, out var runtime)
            ? ValueTask.FromResult<RuntimeRecord?>(runtime)
            : ReadAsync(runtimeId, cancellationToken);

    public async ValueTask<IReadOnlyList<RuntimeRecord>> ListAsync(CancellationToken cancellationToken)
    {
        var db = (await connections.State.WaitAsync(cancellationToken)).GetDatabase();
        var entries = await db.HashGetAllAsync(keys.Runtimes).WaitAsync(cancellationToken);
        var runtimes = new List<RuntimeRecord>(entries.Length);
        foreach (var entry in entries)
        {
            if (RuntimeCodec.TryDecode((string)entry.Name!, entry.Value, out var runtime))
            {
                runtimes.Add(runtime);
            }
        }

        return [.. runtimes.OrderBy(r => r.Id, StringComparer.Ordinal)];
    }

    public async ValueTask<bool> PutAsync(RuntimeRecord runtime, CancellationToken cancellationToken)
    {
        var (created, changed) = await writer.PutRuntimeAsync(runtime.Id, RuntimeCodec.Encode(runtime)).WaitAsync(cancellationToken);
        await version.WaitAsync(changed, readBound, time);
        return created;
    }

    public async ValueTask<bool> DeleteAsync(string runtimeId, CancellationToken cancellationToken)
    {
        var (deleted, changed) = await writer.DeleteRuntimeAsync(runtimeId).WaitAsync(cancellationToken);
        await version.WaitAsync(changed, readBound, time);
        return deleted;
    }

    public void Replace(Dictionary<string, RuntimeRecord> snapshot)
        => Volatile.Write(ref _mirror, new ConcurrentDictionary<string, RuntimeRecord>(snapshot, StringComparer.Ordinal));

    public void ApplyPut(RuntimeRecord runtime) => Volatile.Read(ref _mirror)[runtime.Id] = runtime;

    public void ApplyDelete(string runtimeId) => Volatile.Read(ref _mirror).TryRemove(runtimeId, out _);

    /// <summary>What the mirror holds, encoded, for writing it back to a Redis that lost it.</summary>
    public List<KeyValuePair<string, string>> Entries()
        => [.. Volatile.Read(ref _mirror).Select(pair => KeyValuePair.Create(pair.Key, RuntimeCodec.Encode(pair.Value)))];

    private async ValueTask<RuntimeRecord?> ReadAsync(string runtimeId, CancellationToken cancellationToken)
    {
        // Bounded: the gate checks staleness first, and this read must not hold an attach longer than that bound.
        var db = (await connections.State.WaitAsync(readBound, time, cancellationToken)).GetDatabase();
        var value = await db.HashGetAsync(keys.Runtimes, runtimeId).WaitAsync(readBound, time, cancellationToken);
        return RuntimeCodec.TryDecode(runtimeId, value, out var runtime) ? runtime : null;
    }
}
