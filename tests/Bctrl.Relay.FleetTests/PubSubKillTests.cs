using System.Diagnostics;
using Bctrl.Relay.FleetTests.Infrastructure;
using Bctrl.Relay.Redis;
using Xunit.Abstractions;

namespace Bctrl.Relay.FleetTests;

/// <summary>Issue 3: the subscriptions killed while leases are revoked; the reconnect's snapshot brings every revocation.</summary>
public sealed class PubSubKillTests(ITestOutputHelper output)
{
    [Fact(Timeout = 60_000)]
    public async Task Killing_the_pubsub_connections_while_100_leases_are_revoked_refuses_all_within_2_s_of_the_reconnect()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var fleet = await Fleet.StartAsync(redis.Configuration);
        var leases = new List<(Guid Id, Uri Endpoint)>();
        for (var i = 0; i < 100; i++)
        {
            leases.Add(await fleet.CreateLeaseAsync(fleet.A));
        }

        var resyncsBefore = fleet.Relays.Select(Resyncs).ToArray();
        var watch = Stopwatch.StartNew();
        var killed = int.Parse((await redis.CliAsync("CLIENT", "KILL", "TYPE", "pubsub")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        await Task.WhenAll(leases.Select(l => fleet.DeleteAsync(fleet.A, l.Id)));
        var revokedAt = watch.Elapsed;

        await Eventually.HoldsAsync(async () => (await redis.CliAsync("CLIENT", "LIST", "TYPE", "pubsub"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= fleet.Relays.Count, TimeSpan.FromSeconds(10), "the subscriptions reconnect");
        var reconnectedAt = watch.Elapsed;
        await Eventually.HoldsAsync(() => fleet.Relays.All(r => leases.All(l => Fleet.View(r).IsRevoked(l.Id))),
            TimeSpan.FromSeconds(2), "every node refuses every revoked lease within 2 s of the reconnect");
        var allRefusedAt = watch.Elapsed;

        output.WriteLine($"killed {killed} pubsub connections; 100 deletes done at {revokedAt.TotalMilliseconds:F0} ms; "
            + $"subscriptions back at {reconnectedAt.TotalMilliseconds:F0} ms; all refused on every node at {allRefusedAt.TotalMilliseconds:F0} ms");
        Assert.True(killed >= fleet.Relays.Count, $"killed {killed}");
        for (var i = 0; i < fleet.Relays.Count; i++)
        {
            Assert.True(Resyncs(fleet.Relays[i]) > resyncsBefore[i], $"node {i} read the view whole again after the kill");
        }

        foreach (var (_, endpoint) in leases.Take(10))
        {
            foreach (var relay in fleet.Relays)
            {
                var refused = await AttachClient.AttachAsync(relay.BaseUrl, endpoint);
                Assert.Equal((401, "lease_revoked"), (refused.Status, refused.ErrorCode));
            }
        }
    }

    /// <summary>Snapshots read after the first: on a reconnect, or on a gap its own ping found (whichever came first).</summary>
    private static long Resyncs(Testing.RelayServer relay)
        => Enum.GetValues<ResyncReason>().Where(r => r != ResyncReason.Start).Sum(Fleet.State(relay).Sync.Resyncs);
}
