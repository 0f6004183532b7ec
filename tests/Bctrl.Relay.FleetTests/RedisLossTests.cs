using System.Diagnostics;
using System.Text.Json;
using Bctrl.Relay.FleetTests.Infrastructure;
using Bctrl.Relay.Redis;
using Bctrl.Relay.Testing;
using Xunit.Abstractions;

namespace Bctrl.Relay.FleetTests;

/// <summary>
/// Issue 8, finding 2: losing Redis loses no revocation. It loses the lease records, so every lease issued before the
/// loss is refused and must be reissued; and a <c>DELETE</c> while Redis is away answers 503 with Retry-After in time.
/// </summary>
public sealed class RedisLossTests(ITestOutputHelper output)
{
    private static readonly TimeSpan MaxStaleness = TimeSpan.FromSeconds(2);

    [Fact(Timeout = 90_000)]
    public async Task After_Redis_restarts_empty_every_lease_issued_before_is_refused_on_every_node_and_a_reissued_one_attaches()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var fleet = await Fleet.StartAsync(redis.Configuration, settings: OutageTests.FastStaleness);
        var (id, endpoint) = await fleet.CreateLeaseAsync(fleet.A);
        foreach (var relay in fleet.Relays)
        {
            await using var client = await AttachClient.OpenAsync(relay.BaseUrl, endpoint);
            await client.CloseAsync();
        }

        // Killed (nothing saved) and started again empty, as a Redis without persistence restarts.
        await redis.StopAsync();
        await redis.StartAgainAsync();
        foreach (var relay in fleet.Relays)
        {
            await Eventually.HoldsAsync(
                async () => Fleet.State(relay).Sync.Resyncs(ResyncReason.Epoch) > 0 && await Fleet.IsReadyAsync(relay),
                TimeSpan.FromSeconds(10), "the node read the new, empty copy and is ready", pollMilliseconds: 20);
        }

        // The lease's record is gone, so nothing could revoke it: every node refuses it (before: 101 everywhere).
        foreach (var relay in fleet.Relays)
        {
            var refused = await AttachClient.AttachAsync(relay.BaseUrl, endpoint);
            await using (refused.Client)
            {
                Assert.Equal((401, "lease_unknown"), (refused.Status, refused.ErrorCode));
            }
        }

        // The control API says the same: the connection no longer exists.
        using (var get = await fleet.B.Http.GetAsync($"v1/runtimes/{Fleet.RuntimeId}/connections/{id}"))
        {
            Assert.Equal((404, "connection_not_found"), ((int)get.StatusCode, await CodeAsync(get)));
        }

        using (var delete = await fleet.B.Http.DeleteAsync($"v1/runtimes/{Fleet.RuntimeId}/connections/{id}"))
        {
            Assert.Equal((404, "connection_not_found"), ((int)delete.StatusCode, await CodeAsync(delete)));
        }

        // A lease issued again (the runtime was written back by the nodes) attaches on every node.
        var (_, reissued) = await fleet.CreateLeaseAsync(fleet.C);
        foreach (var relay in fleet.Relays)
        {
            await using var client = await AttachClient.OpenAsync(relay.BaseUrl, reissued);
            await new Traffic(client, 1).RoundTripAsync();
            await client.CloseAsync();
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task A_delete_while_Redis_is_paused_answers_503_with_Retry_After_within_the_staleness_bound_and_its_retry_revokes_the_lease()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var fleet = await Fleet.StartAsync(redis.Configuration, settings: OutageTests.FastStaleness);
        var (id, endpoint) = await fleet.CreateLeaseAsync(fleet.A);
        var path = $"v1/runtimes/{Fleet.RuntimeId}/connections/{id}?terminate=true";
        await using var live = await AttachClient.OpenAsync(fleet.B.BaseUrl, endpoint);

        await redis.PauseAsync();
        try
        {
            // Redis stops answering in the middle of the fleet's life: the DELETE waits at most the staleness bound.
            var watch = Stopwatch.StartNew();
            using (var response = await fleet.A.Http.DeleteAsync(path))
            {
                var took = watch.Elapsed;
                output.WriteLine($"DELETE while Redis is paused: {(int)response.StatusCode} after {took.TotalMilliseconds:F0} ms (bound {MaxStaleness.TotalMilliseconds} ms)");
                Assert.Equal((503, "state_unavailable"), ((int)response.StatusCode, await CodeAsync(response)));
                Assert.NotNull(response.Headers.RetryAfter);
                Assert.True(took < MaxStaleness + TimeSpan.FromSeconds(1.5), $"took {took}");
            }

            // Once a node's view is stale, it answers at once.
            await Eventually.HoldsAsync(async () => !await Fleet.IsReadyAsync(fleet.C), MaxStaleness + TimeSpan.FromSeconds(2), "node C stale", pollMilliseconds: 20);
            watch.Restart();
            using (var response = await fleet.C.Http.DeleteAsync(path))
            {
                Assert.Equal((503, "state_unavailable"), ((int)response.StatusCode, await CodeAsync(response)));
                Assert.NotNull(response.Headers.RetryAfter);
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
            }
        }
        finally
        {
            await redis.ResumeAsync();
        }

        await fleet.WaitReadyAsync(TimeSpan.FromSeconds(10));

        // The retry is safe (the delete is idempotent), and succeeds: the lease is refused on every node and its live
        // attach is closed.
        using (var retry = await fleet.A.Http.DeleteAsync(path))
        {
            Assert.Equal(204, (int)retry.StatusCode);
        }

        foreach (var relay in fleet.Relays)
        {
            var refused = await AttachClient.AttachAsync(relay.BaseUrl, endpoint);
            await using (refused.Client)
            {
                Assert.Equal((401, "lease_revoked"), (refused.Status, refused.ErrorCode));
            }
        }

        Assert.Equal("deleted", await Api.StateAsync(fleet.C, id));
        var closed = await live.ReadAsync();
        Assert.Equal(FakeRuntimeFrame.Close, closed.Opcode);
    }

    private static async Task<string?> CodeAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (body.Length == 0)
        {
            return null;
        }

        using var json = JsonDocument.Parse(body);
        return json.RootElement.TryGetProperty("error", out var error) ? error.GetProperty("code").GetString() : body;
    }
}
