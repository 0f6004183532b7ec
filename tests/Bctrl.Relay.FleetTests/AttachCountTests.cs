using Bctrl.Relay.FleetTests.Infrastructure;
using StackExchange.Redis;

namespace Bctrl.Relay.FleetTests;

/// <summary>Issue 3 item 4: live and total attaches summed over the nodes, robust to a node that died.</summary>
public sealed class AttachCountTests(RedisFixture fixture) : IClassFixture<RedisFixture>
{
    [Fact(Timeout = 60_000)]
    public async Task A_dead_node_keeps_its_total_but_stops_counting_live_once_it_is_no_longer_heard_from()
    {
        await using var fleet = await Fleet.StartAsync(fixture.Redis.Configuration, nodes: 2);
        var (id, endpoint) = await fleet.CreateLeaseAsync(fleet.A);
        await using var client = await AttachClient.OpenAsync(fleet.B.BaseUrl, endpoint);
        await Eventually.HoldsAsync(async () => await Api.AttachCountsAsync(fleet.A, id) == (1, 1), TimeSpan.FromSeconds(5), "(1, 1)");

        // A node that died with 3 live attaches (7 in all) and was last heard from a minute ago, as Redis holds it.
        var keys = Fleet.State(fleet.A).Keys;
        var db = (await Fleet.State(fleet.A).Connections.State).GetDatabase();
        await db.HashSetAsync(keys.Connection(id), "n:deadbeef0000", "5 3 7");
        await db.SortedSetAddAsync(keys.Nodes, "deadbeef0000", DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds());
        Assert.Equal((1, 8), await Api.AttachCountsAsync(fleet.B, id));

        // Heard from again: its live attaches count.
        await db.SortedSetAddAsync(keys.Nodes, "deadbeef0000", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.Equal((4, 8), await Api.AttachCountsAsync(fleet.B, id));

        // A write that timed out and ran late (an older sequence number) does not undo a newer one.
        var field = "n:" + Fleet.State(fleet.B).NodeId;
        var current = (string)(await db.HashGetAsync(keys.Connection(id), field))!;
        await client.CloseAsync();
        await Eventually.HoldsAsync(async () => (string?)await db.HashGetAsync(keys.Connection(id), field) != current, TimeSpan.FromSeconds(5), "B wrote its close");
        var script = """
            local current = redis.call('HGET', KEYS[1], ARGV[1])
            if not current or tonumber(string.match(current, '^%d+')) < tonumber(ARGV[2]) then
              redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' 1 1')
            end
            return 1
            """;
        await db.ScriptEvaluateAsync(script, [keys.Connection(id)], [field, current.Split(' ')[0]]);
        Assert.Equal((3, 8), await Api.AttachCountsAsync(fleet.A, id));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_lease_record_expires_with_its_lease_plus_retention()
    {
        await using var fleet = await Fleet.StartAsync(fixture.Redis.Configuration, nodes: 1);
        var (id, _) = await fleet.CreateLeaseAsync(fleet.A, ttlSeconds: 60);
        var keys = Fleet.State(fleet.A).Keys;
        var db = (await Fleet.State(fleet.A).Connections.State).GetDatabase();
        var ttl = await db.KeyTimeToLiveAsync(keys.Connection(id));
        var indexTtl = await db.KeyTimeToLiveAsync(keys.RuntimeConnections(Fleet.RuntimeId));

        // 60 s of lease and an hour of retention (the in-memory store's), give or take the test's own time.
        Assert.InRange(ttl!.Value.TotalSeconds, 3600 + 50, 3600 + 61);
        Assert.InRange(indexTtl!.Value.TotalSeconds, 3600 + 50, 3600 + 61);
        await fleet.DeleteAsync(fleet.A, id);
        var revocationTtl = await db.KeyTimeToLiveAsync(keys.Fleet[2]);
        Assert.InRange(revocationTtl!.Value.TotalSeconds, 60 + 50, 60 + 61 + 60);
    }
}
