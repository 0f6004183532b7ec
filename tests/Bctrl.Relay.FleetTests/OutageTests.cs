using System.Diagnostics;
using Bctrl.Relay.FleetTests.Infrastructure;
using Bctrl.Relay.Testing;
using Xunit.Abstractions;

namespace Bctrl.Relay.FleetTests;

/// <summary>
/// Issue 3: Redis stopped for 30 s, then back empty (no persistence). Fail closed, keep relaying, recover. Issue 8: the
/// leases issued before are lost with it and refused (<c>lease_unknown</c>); reissued ones attach.
/// </summary>
public sealed class OutageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MaxStaleness = TimeSpan.FromSeconds(2);

    internal static Dictionary<string, string?> FastStaleness => new()
    {
        ["Relay:Revocations:MaxStaleness"] = "00:00:02",
        ["Relay:Revocations:ConfirmInterval"] = "00:00:00.250",
    };

    [Fact(Timeout = 120_000)]
    public async Task Redis_stopped_for_30_s_keeps_live_attaches_relaying_refuses_new_ones_and_every_node_recovers_within_5_s()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var fleet = await Fleet.StartAsync(redis.Configuration, settings: FastStaleness);
        var (_, endpoint) = await fleet.CreateLeaseAsync(fleet.A);
        var (revoked, revokedEndpoint) = await fleet.CreateLeaseAsync(fleet.A);
        await fleet.DeleteAsync(fleet.A, revoked);
        await Eventually.HoldsAsync(() => fleet.Relays.All(r => Fleet.View(r).IsRevoked(revoked)), TimeSpan.FromSeconds(2), "every node has the revocation");

        await using var onA = await AttachClient.OpenAsync(fleet.A.BaseUrl, endpoint);
        await using var onC = await AttachClient.OpenAsync(fleet.C.BaseUrl, endpoint);
        var traffic = new[] { new Traffic(onA, 10), new Traffic(onC, 11) };
        using var stopTraffic = new CancellationTokenSource();
        var pumps = traffic.Select(t => t.RunAsync(stopTraffic.Token)).ToArray();

        await redis.StopAsync();
        var down = Stopwatch.StartNew();

        // Before the view is stale, the revocation it holds still refuses.
        foreach (var relay in fleet.Relays)
        {
            var refused = await AttachClient.AttachAsync(relay.BaseUrl, revokedEndpoint);
            Assert.Contains((refused.Status, refused.ErrorCode), new (int, string?)[] { (401, "lease_revoked"), (503, "revocations_stale") });
        }

        // Then every node fails closed: not ready, and every new attach 503 with Retry-After.
        foreach (var relay in fleet.Relays)
        {
            await Eventually.HoldsAsync(async () => !await Fleet.IsReadyAsync(relay), MaxStaleness + TimeSpan.FromSeconds(2), "the node reports not ready");
        }

        output.WriteLine($"every node not ready {down.Elapsed.TotalSeconds:F2} s after Redis stopped (bound {MaxStaleness.TotalSeconds} s)");
        var checks = 0;
        while (down.Elapsed < Outage)
        {
            foreach (var relay in fleet.Relays)
            {
                foreach (var lease in (Uri[])[endpoint, revokedEndpoint])
                {
                    var refused = await AttachClient.AttachAsync(relay.BaseUrl, lease);
                    Assert.Equal((503, "revocations_stale"), (refused.Status, refused.ErrorCode));
                    Assert.NotNull(refused.RetryAfter);
                }

                Assert.False(await Fleet.IsReadyAsync(relay));
            }

            checks++;
            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        var relayedDuringOutage = traffic.Sum(t => t.Messages);
        await redis.StartAgainAsync();
        var back = Stopwatch.StartNew();
        Uri? reissued = null;
        foreach (var relay in fleet.Relays)
        {
            await Eventually.HoldsAsync(async () =>
            {
                if (!await Fleet.IsReadyAsync(relay))
                {
                    return false;
                }

                // The lease's record went with Redis's memory: it must be reissued (issue 8).
                try
                {
                    reissued ??= (await fleet.CreateLeaseAsync(relay)).Endpoint;
                }
                catch (HttpRequestException)
                {
                    return false;
                }

                var attach = await AttachClient.AttachAsync(relay.BaseUrl, reissued);
                if (attach.Client is null)
                {
                    return false;
                }

                await using var client = attach.Client;
                await new Traffic(client, 12).RoundTripAsync();
                await client.CloseAsync();
                return true;
            }, TimeSpan.FromSeconds(5) - back.Elapsed, "the node is ready and attaching", pollMilliseconds: 20);
        }

        var recovery = back.Elapsed;
        output.WriteLine($"Redis down {Outage.TotalSeconds} s ({checks} refusal rounds); every node ready and attaching {recovery.TotalSeconds:F2} s after it came back");
        Console.WriteLine($"[outage] recovery to ready and attaching on all nodes: {recovery.TotalSeconds:F2} s");

        // Redis came back empty; the nodes wrote the revocation (and the runtime) back, so the deleted lease stays
        // refused, and the lease that was not deleted is refused too: nothing could revoke it any more.
        foreach (var relay in fleet.Relays)
        {
            var refused = await AttachClient.AttachAsync(relay.BaseUrl, revokedEndpoint);
            Assert.Equal((401, "lease_revoked"), (refused.Status, refused.ErrorCode));
            var unknown = await AttachClient.AttachAsync(relay.BaseUrl, endpoint);
            Assert.Equal((401, "lease_unknown"), (unknown.Status, unknown.ErrorCode));
        }

        Assert.Contains(revoked.ToString("N"), await redis.CliAsync("--raw", "ZRANGE", $"{{{Prefix(fleet)}}}:rev", "0", "-1"), StringComparison.Ordinal);
        using (var runtime = await fleet.B.Http.GetAsync($"v1/runtimes/{Fleet.RuntimeId}"))
        {
            Assert.Equal(200, (int)runtime.StatusCode);
        }

        await stopTraffic.CancelAsync();
        await Task.WhenAll(pumps);
        foreach (var t in traffic)
        {
            await t.RoundTripAsync();
            t.AssertIntact();
        }

        output.WriteLine($"live attaches relayed {traffic.Sum(t => t.Messages)} messages ({traffic.Sum(t => t.Bytes)} B), {relayedDuringOutage} of them by the end of the outage, hashes equal");
        Assert.True(relayedDuringOutage > 100, $"{relayedDuringOutage}");
        await onA.CloseAsync();
        await onC.CloseAsync();
    }

    internal static string Prefix(Fleet fleet) => Fleet.State(fleet.A).Keys.ChannelName.Split('}')[0].TrimStart('{');
}
