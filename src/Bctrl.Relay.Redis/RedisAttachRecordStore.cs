using System.Globalization;
using System.Text.Json;
using Bctrl.Relay.Observation;
using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

/// <summary>
/// Attach metadata in a hash per connection (attach id → JSON), so every node's attaches of a lease are listed
/// together; it expires with the lease's retention. Written on the fail-fast multiplexer.
/// </summary>
internal sealed class RedisAttachRecordStore(RedisConnections connections, RedisKeys keys, TimeSpan retention) : IAttachRecordStore
{
    public async ValueTask SaveAsync(AttachRecord record, CancellationToken cancellationToken)
    {
        var db = (await connections.Side.WaitAsync(cancellationToken)).GetDatabase();
        var key = keys.ConnectionAttaches(record.ConnectionId);
        var json = JsonSerializer.SerializeToUtf8Bytes(record, ObservationJson.Default.AttachRecord);
        var batch = db.CreateBatch();
        var set = batch.HashSetAsync(key, record.AttachId.ToString(CultureInfo.InvariantCulture), json);
        var expire = batch.KeyExpireAsync(key, retention);
        batch.Execute();
        await Task.WhenAll(set, expire);
    }

    public async ValueTask<IReadOnlyList<AttachRecord>> ListAsync(Guid connectionId, CancellationToken cancellationToken)
    {
        var db = (await connections.Side.WaitAsync(cancellationToken)).GetDatabase();
        var entries = await db.HashGetAllAsync(keys.ConnectionAttaches(connectionId)).WaitAsync(cancellationToken);
        return entries
            .Select(e => JsonSerializer.Deserialize((byte[])e.Value!, ObservationJson.Default.AttachRecord))
            .OfType<AttachRecord>()
            .OrderBy(r => r.OpenedAt)
            .ThenBy(r => r.AttachId)
            .ToArray();
    }
}
