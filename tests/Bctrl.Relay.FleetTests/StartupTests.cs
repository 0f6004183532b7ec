using System.Diagnostics;
using System.Text.RegularExpressions;
using Bctrl.Relay.FleetTests.Infrastructure;
using Bctrl.Relay.Leases;
using Bctrl.Relay.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Bctrl.Relay.FleetTests;

/// <summary>Issue 3 item 5: abortConnect=false, so a node starts while Redis is down and is simply not ready.</summary>
public sealed class StartupTests(ITestOutputHelper output)
{
    [Fact(Timeout = 60_000)]
    public async Task A_node_starts_while_Redis_is_down_refuses_attaches_as_stale_and_is_ready_once_Redis_is_up()
    {
        // A relay without Redis started and stopped first, so that the bound below measures waiting on Redis and not
        // the JIT of a cold test process (run alone on a busy two-core machine, a first start has taken 3.9 s).
        await (await RelayServer.StartAsync()).DisposeAsync();

        var port = Loopback.FreePort();
        var watch = Stopwatch.StartNew();
        await using var relay = await RelayServer.StartAsync(Fleet.Settings($"127.0.0.1:{port}", "startup"));
        var started = watch.Elapsed;
        Assert.True(started < TimeSpan.FromSeconds(3), $"started in {started}");

        // A valid token (issued here: the control API needs Redis) is refused, fail closed, before any lookup.
        var tokens = relay.Services.GetRequiredService<LeaseTokens>();
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var token = tokens.Issue(new LeaseClaims(Guid.CreateVersion7(), Fleet.RuntimeId, LeaseProtocol.Cdp, now, now.AddMinutes(5)));
        var refused = await AttachClient.AttachAsync(relay.BaseUrl, new Uri(relay.BaseUrl, "cdp/" + token));
        Assert.Equal((503, "revocations_stale", "1"), (refused.Status, refused.ErrorCode, refused.RetryAfter));
        Assert.False(await Fleet.IsReadyAsync(relay));
        var metrics = await relay.Http.GetStringAsync("metrics");
        Assert.Matches("bctrl_relay_redis_up\\{[^}]*connection=\"state\"[^}]*\\} 0", metrics);

        await using var redis = await RedisProcess.StartOnAsync(port);
        var up = Stopwatch.StartNew();
        await Eventually.HoldsAsync(() => Fleet.IsReadyAsync(relay), TimeSpan.FromSeconds(5), "ready once Redis is up", pollMilliseconds: 20);
        output.WriteLine($"started in {started.TotalMilliseconds:F0} ms with Redis down; ready {up.Elapsed.TotalSeconds:F2} s after Redis came up");

        var runtime = FakeRuntime.Start();
        await using var _ = runtime;
        runtime.Echo = true;
        await relay.PutRuntimeAsync(Fleet.RuntimeId, runtime.WebSocketUrl);
        var (_, endpoint) = await relay.CreateConnectionAsync(Fleet.RuntimeId);
        await using var client = await AttachClient.OpenAsync(relay.BaseUrl, endpoint);
        await new Traffic(client, 1).RoundTripAsync();
        await client.CloseAsync();

        // The exporter caches a scrape for 300 ms: ask until the answer is a fresh one.
        await Eventually.HoldsAsync(async () =>
        {
            var fresh = await relay.Http.GetStringAsync("metrics");
            return Regex.IsMatch(fresh, "bctrl_relay_redis_up\\{[^}]*connection=\"state\"[^}]*\\} 1")
                && Regex.IsMatch(fresh, "bctrl_relay_revocations_resyncs_total\\{[^}]*reason=\"start\"[^}]*\\} 1\n")
                && Regex.IsMatch(fresh, "bctrl_relay_revocations_age_seconds(\\{[^}]*\\})? 0\\.");
        }, TimeSpan.FromSeconds(3), "the metrics say Redis is up and the view fresh", pollMilliseconds: 100);
    }
}
