using System.Collections.Concurrent;
using System.Diagnostics;
using Bctrl.Relay.FleetTests.Infrastructure;
using Bctrl.Relay.Testing;
using Xunit.Abstractions;

namespace Bctrl.Relay.FleetTests;

/// <summary>Issue 3: Redis paused (SIGSTOP) for 10 s under attach load: attaches never wait on it, nothing leaks.</summary>
public sealed class PauseTests(ITestOutputHelper output)
{
    private static readonly TimeSpan MaxStaleness = TimeSpan.FromSeconds(2);

    [Fact(Timeout = 90_000)]
    public async Task Redis_paused_for_10_s_under_attach_load_blocks_no_attach_past_the_staleness_bound_leaks_nothing_and_recovers()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var fleet = await Fleet.StartAsync(redis.Configuration, nodes: 2, settings: OutageTests.FastStaleness);
        var (id, endpoint) = await fleet.CreateLeaseAsync(fleet.A);
        var results = new ConcurrentQueue<(double At, double Took, int Status, string? Code)>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();

        async Task WorkerAsync(int worker)
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var relay = fleet.Relays[(worker + i) % fleet.Relays.Count];
                var started = clock.Elapsed;
                var attach = await AttachClient.AttachAsync(relay.BaseUrl, endpoint);
                if (attach.Client is { } client)
                {
                    await using (client)
                    {
                        await new Traffic(client, worker * 1000 + i).RoundTripAsync();
                        await client.CloseAsync();
                    }
                }

                results.Enqueue((started.TotalSeconds, (clock.Elapsed - started).TotalSeconds, attach.Status, attach.ErrorCode));
                await Task.Delay(10);
            }
        }

        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() => WorkerAsync(w))).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(2));
        var pausedAt = clock.Elapsed.TotalSeconds;
        await redis.PauseAsync();
        await Task.Delay(TimeSpan.FromSeconds(10));
        await redis.ResumeAsync();
        var resumedAt = clock.Elapsed.TotalSeconds;
        await Eventually.HoldsAsync(async () => (await Task.WhenAll(fleet.Relays.Select(Fleet.IsReadyAsync))).All(ready => ready),
            TimeSpan.FromSeconds(10), "every node ready after SIGCONT", pollMilliseconds: 20);
        var readyAfter = clock.Elapsed.TotalSeconds - resumedAt;
        await Task.Delay(TimeSpan.FromSeconds(1));
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        var all = results.ToArray();
        var durations = all.Select(r => r.Took).Order().ToArray();
        var worst = durations[^1];
        var p99 = durations[(int)(durations.Length * 0.99)];
        var opened = all.Count(r => r.Status == 101);
        var stale = all.Count(r => r.Code == "revocations_stale");
        var openedDuringPause = all.Count(r => r.Status == 101 && r.At > pausedAt + MaxStaleness.TotalSeconds + 0.5 && r.At + r.Took < resumedAt);
        output.WriteLine($"{all.Length} attaches: {opened} opened, {stale} refused revocations_stale; slowest {worst * 1000:F0} ms, p99 {p99 * 1000:F0} ms "
            + $"(bound {MaxStaleness.TotalMilliseconds} ms); ready {readyAfter:F2} s after SIGCONT");
        Console.WriteLine($"[pause] slowest attach {worst * 1000:F0} ms, ready {readyAfter:F2} s after SIGCONT");

        Assert.True(worst < MaxStaleness.TotalSeconds, $"an attach took {worst:F2} s");
        Assert.All(all, r => Assert.True(r.Status == 101 || r.Code == "revocations_stale", $"{r.Status} {r.Code}"));
        Assert.True(stale > 0, "the pause made the view stale");
        Assert.Equal(0, openedDuringPause);
        Assert.Contains(all, r => r.Status == 101 && r.At > resumedAt);
        Assert.True(readyAfter < 5, $"{readyAfter}");

        // Nothing leaked: no attach or place held, the runtime saw exactly the attaches that opened, and the counts in
        // Redis came out exact once the pending writes went through.
        foreach (var relay in fleet.Relays)
        {
            await Eventually.HoldsAsync(() => Fleet.Registry(relay).Count == 0 && Fleet.Registry(relay).LiveCount == 0, TimeSpan.FromSeconds(5), "no attach left");
            await Eventually.HoldsAsync(() => Fleet.State(relay).AttachCounts.Pending == 0, TimeSpan.FromSeconds(5), "no count left to write");
        }

        Assert.Equal(opened, fleet.Runtime.AcceptedConnections);
        await Eventually.HoldsAsync(async () => await Api.AttachCountsAsync(fleet.B, id) == (0, opened), TimeSpan.FromSeconds(5), $"counts (0, {opened})");
        Assert.Empty(fleet.Runtime.Errors);
    }
}
