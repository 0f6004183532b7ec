using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bctrl.Relay.Artifacts;
using Bctrl.Relay.FleetTests.Infrastructure;
using Bctrl.Relay.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Bctrl.Relay.FleetTests;

/// <summary>
/// docs/artifacts.md, "Losses": an artifact store that stops answering never blocks a splice. Redis (the fleet's
/// artifact store) is paused (SIGSTOP) while an attach on a lease that keeps artifacts sends screenshot results in a
/// closed loop: the round trips go on at speed and intact, the artifacts that cannot be kept are counted lost, and after
/// SIGCONT artifacts are stored again.
/// </summary>
public sealed class ArtifactPauseTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(6);

    // A splice that waited on the store would stall for the store's timeout (10 s) or the whole pause; the client and
    // the relay share this test process, whose thread pool the paused Redis client also occupies, hence 2 s.
    private static readonly TimeSpan SlowestRoundTripAllowed = TimeSpan.FromSeconds(2);

    [Fact(Timeout = 90_000)]
    public async Task Redis_paused_under_a_stream_of_screenshots_blocks_no_round_trip_counts_the_losses_and_stores_again_after_SIGCONT()
    {
        await using var redis = await RedisProcess.StartAsync();

        // A small queue, so that the pause fills it within seconds.
        await using var fleet = await Fleet.StartAsync(redis.Configuration, nodes: 1, settings: new Dictionary<string, string?>
        {
            ["Relay:Artifacts:MaxBytes"] = "65536",
            ["Relay:Artifacts:QueueBytes"] = "262144",
        });
        var relay = fleet.A;
        var queue = relay.Services.GetRequiredService<ArtifactQueue>();
        using var created = await relay.Http.PostAsJsonAsync($"v1/runtimes/{Fleet.RuntimeId}/connections", new { protocol = "cdp", record = new { artifacts = true } });
        using var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var endpoint = new Uri(body.RootElement.GetProperty("endpoint").GetProperty("url").GetString()!);
        await using var client = await AttachClient.OpenAsync(relay.BaseUrl, endpoint);

        // The fleet's runtime echoes: a command that carries a result comes back as the answer to itself, which is what
        // a screenshot's result is to the relay. 8 KiB of image each.
        var image = Convert.ToBase64String([0x89, (byte)'P', (byte)'N', (byte)'G', .. new byte[8 * 1024]]);
        long id = 0;
        async Task<TimeSpan> RoundTripAsync()
        {
            var message = Encoding.UTF8.GetBytes($$$"""{"id":{{{++id}}},"method":"Page.captureScreenshot","result":{"data":"{{{image}}}"}}""");
            var started = Stopwatch.GetTimestamp();
            await client.SendAsync(FakeRuntimeFrame.Text, message);
            var echo = await client.ReadAsync();
            Assert.True(echo.Payload.AsSpan().SequenceEqual(message), $"the answer to {id} differs");
            return Stopwatch.GetElapsedTime(started);
        }

        await RoundTripAsync();
        await Eventually.HoldsAsync(() => Task.FromResult(queue.Stored(ArtifactKinds.Screenshot) >= 1), TimeSpan.FromSeconds(10), "an artifact stored before the pause", pollMilliseconds: 50);

        await redis.PauseAsync();
        long inPause = 0;
        var slowest = TimeSpan.Zero;
        var storedAtPause = queue.Stored(ArtifactKinds.Screenshot);
        try
        {
            var paused = Stopwatch.StartNew();
            while (paused.Elapsed < Pause)
            {
                var took = await RoundTripAsync();
                slowest = took > slowest ? took : slowest;
                inPause++;
            }
        }
        finally
        {
            await redis.ResumeAsync();
        }

        var lost = queue.Lost(ArtifactLoss.QueueFull) + queue.Lost(ArtifactLoss.StoreFailed);
        output.WriteLine($"in the pause: {inPause} round trips, slowest {slowest.TotalMilliseconds:F0} ms; {lost} artifacts lost, {queue.Stored(ArtifactKinds.Screenshot) - storedAtPause} stored");
        Assert.True(slowest < SlowestRoundTripAllowed, $"a round trip took {slowest.TotalMilliseconds:F0} ms while the store was paused");
        Assert.True(inPause > 100, $"only {inPause} round trips in {Pause.TotalSeconds} s of pause");
        Assert.True(queue.Lost(ArtifactLoss.QueueFull) > 0, "the queue never filled in the pause");

        // After SIGCONT the store answers again, once the pump has worked off what timed out and the connection is
        // back: a screenshot sent then is stored and listed (one a second until one is, bounded).
        var before = queue.Stored(ArtifactKinds.Screenshot);
        var resumed = Stopwatch.StartNew();
        while (true)
        {
            await RoundTripAsync();
            var sent = id;
            await Task.Delay(TimeSpan.FromSeconds(1));
            using var list = JsonDocument.Parse(await relay.Http.GetStringAsync($"v1/runtimes/{Fleet.RuntimeId}/artifacts?kind=screenshot&limit=1000"));
            if (list.RootElement.GetProperty("data").EnumerateArray().Any(a => a.GetProperty("commandId").GetInt64() == sent))
            {
                break;
            }

            Assert.True(resumed.Elapsed < TimeSpan.FromSeconds(40), "no screenshot sent after SIGCONT was stored within 40 s");
        }

        output.WriteLine($"stored again {resumed.Elapsed.TotalSeconds:F1} s after SIGCONT");
        Assert.True(queue.Stored(ArtifactKinds.Screenshot) > before);
        await client.CloseAsync();
    }
}
