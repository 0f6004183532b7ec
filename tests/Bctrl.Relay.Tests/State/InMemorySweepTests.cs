using Bctrl.Relay.Leases;
using Bctrl.Relay.Observation;
using Bctrl.Relay.State;

namespace Bctrl.Relay.Tests.State;

/// <summary>The embedded default forgets what has expired: connections past their retention, and their attach metadata.</summary>
public sealed class InMemorySweepTests
{
    [Fact(Timeout = 10_000)]
    public async Task A_swept_connection_is_returned_so_its_attach_metadata_can_be_forgotten()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        var connections = new InMemoryConnectionStore();
        var attaches = new InMemoryAttachRecordStore();
        var old = new ConnectionRecord(Guid.NewGuid(), "rt", LeaseProtocol.Cdp, now.AddHours(-3), now.AddHours(-2), null);
        var fresh = new ConnectionRecord(Guid.NewGuid(), "rt", LeaseProtocol.Cdp, now, now.AddMinutes(5), null);
        await connections.CreateAsync(old, default);
        await connections.CreateAsync(fresh, default);
        foreach (var record in new[] { old, fresh })
        {
            await attaches.SaveAsync(new AttachRecord { AttachId = 1, ConnectionId = record.Id, RuntimeId = "rt", OpenedAt = record.CreatedAt }, default);
        }

        var dropped = connections.Sweep(now);
        foreach (var id in dropped)
        {
            attaches.Forget(id);
        }

        Assert.Equal([old.Id], dropped);
        Assert.Null(await connections.GetAsync(old.Id, default));
        Assert.NotNull(await connections.GetAsync(fresh.Id, default));
        Assert.Empty(await attaches.ListAsync(old.Id, default));
        Assert.Single(await attaches.ListAsync(fresh.Id, default));
    }
}
