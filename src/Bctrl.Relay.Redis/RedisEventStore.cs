using System.Text.Json;
using Bctrl.Relay.Observation;
using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

/// <summary>
/// Observation records in one Redis stream per runtime (docs/design.md §6): <c>XADD … MAXLEN ~ N</c>, a batch pipelined at once,
/// on the fail-fast multiplexer, so an outage fails the batch at once (the pump counts it dropped) instead of queueing
/// behind it. Stream ids are the SSE event ids.
/// </summary>
internal sealed class RedisEventStore(RedisConnections connections, RedisKeys keys, int recordsPerRuntime) : IEventStore
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
    private static readonly RedisValue Field = "r";

    public async ValueTask AppendAsync(IReadOnlyList<ObservationRecord> batch, CancellationToken cancellationToken)
    {
        var db = (await connections.Side.WaitAsync(cancellationToken)).GetDatabase();
        var adds = new Task[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var record = batch[i];
            var json = JsonSerializer.SerializeToUtf8Bytes(record, ObservationJson.Default.ObservationRecord);
            adds[i] = db.StreamAddAsync(keys.RuntimeEvents(record.RuntimeId), Field, json, maxLength: recordsPerRuntime, useApproximateMaxLength: true);
        }

        await Task.WhenAll(adds);
    }

    public async ValueTask<IReadOnlyList<StoredRecord>> ReadAsync(string runtimeId, string? afterId, int max, CancellationToken cancellationToken)
    {
        var db = (await connections.Side.WaitAsync(cancellationToken)).GetDatabase();

        // "(id" is an exclusive start (Redis 6.2 and later).
        var entries = await db.StreamRangeAsync(keys.RuntimeEvents(runtimeId), afterId is null ? "-" : "(" + afterId, "+", max).WaitAsync(cancellationToken);
        var records = new List<StoredRecord>(entries.Length);
        foreach (var entry in entries)
        {
            var value = entry[Field];
            if (value.HasValue && JsonSerializer.Deserialize((byte[])value!, ObservationJson.Default.ObservationRecord) is { } record)
            {
                records.Add(new StoredRecord(entry.Id!, record));
            }
        }

        return records;
    }

    /// <summary>StackExchange.Redis has no blocking reads (XREAD BLOCK would stall the multiplexer): poll.</summary>
    public Task WaitAsync(string runtimeId, string? afterId, TimeSpan timeout, CancellationToken cancellationToken)
        => Task.Delay(timeout < PollInterval ? timeout : PollInterval, cancellationToken);
}
