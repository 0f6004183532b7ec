using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Bctrl.Relay.FleetTests.Infrastructure;
using Bctrl.Relay.Observation;
using Bctrl.Relay.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Bctrl.Relay.FleetTests;

/// <summary>
/// Issue 4: the sink never blocks the splice. Redis is paused (SIGSTOP) while live attaches run CDP commands in a
/// closed loop through a relay whose records go to Redis Streams: the round trips go on at speed and intact, the records
/// that cannot be stored are dropped and counted, and once Redis is resumed (SIGCONT) records are stored again.
/// </summary>
public sealed class ObservationPauseTests(ITestOutputHelper output)
{
    private const int Attaches = 4;
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(8);

    // A splice that waited on the store would stall for the multiplexer's timeout (5 s) or the whole pause.
    private static readonly TimeSpan SlowestRoundTripAllowed = TimeSpan.FromSeconds(1);

    [Fact(Timeout = 45_000)]
    public async Task Redis_paused_during_a_busy_run_blocks_no_round_trip_counts_the_drops_and_records_resume_after_SIGCONT()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var fleet = await Fleet.StartAsync(redis.Configuration, nodes: 1);
        var relay = fleet.A;
        var queue = relay.Services.GetRequiredService<RecordQueue>();
        var streamKey = Fleet.State(relay).Keys.RuntimeEvents(Fleet.RuntimeId);
        await using var reader = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        var db = reader.GetDatabase();

        var (connectionId, endpoint) = await fleet.CreateLeaseAsync(relay);
        var loops = new CommandLoop[Attaches];
        for (var i = 0; i < Attaches; i++)
        {
            loops[i] = new CommandLoop(await AttachClient.OpenAsync(relay.BaseUrl, endpoint));
        }

        using var stop = new CancellationTokenSource();
        var running = loops.Select(l => Task.Run(() => l.RunAsync(stop.Token))).ToArray();
        var clock = Stopwatch.StartNew();
        try
        {
            // Before the pause: records reach the stream.
            await Eventually.HoldsAsync(async () => await db.StreamLengthAsync(streamKey) > 1000, TimeSpan.FromSeconds(10), "records in the stream before the pause", pollMilliseconds: 50);
            var ratesBefore = await RatesAsync(loops, seconds: 2);
            var droppedBefore = queue.Dropped;
            output.WriteLine($"before the pause: {loops.Sum(l => l.RoundTrips)} round trips (last seconds: {string.Join(", ", ratesBefore)}), "
                + $"{await db.StreamLengthAsync(streamKey)} records in the stream, {droppedBefore} dropped, {clock.Elapsed.TotalSeconds:F1} s");

            // The pause. Always resumed, whatever fails in between.
            long roundTripsInPause;
            double droppedScrapedInPause;
            long droppedInPause;
            long[] idsAtResume;
            TimeSpan slowestInPause;
            foreach (var loop in loops)
            {
                loop.ResetSlowest();
            }

            await redis.PauseAsync();
            try
            {
                var pausedAt = loops.Sum(l => l.RoundTrips);
                var paused = Stopwatch.StartNew();
                var perSecond = new List<long>();
                var last = pausedAt;
                while (paused.Elapsed < Pause)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1));
                    var now = loops.Sum(l => l.RoundTrips);
                    perSecond.Add(now - last);
                    last = now;
                    Assert.All(loops, l => Assert.Null(l.Failure));
                }

                roundTripsInPause = loops.Sum(l => l.RoundTrips) - pausedAt;
                slowestInPause = loops.Max(l => l.Slowest);
                droppedInPause = queue.Dropped - droppedBefore;

                // /metrics answers during the pause (nothing in it waits on Redis) and shows the drops.
                using var scrapeTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                droppedScrapedInPause = await ScrapeDroppedAsync(relay, scrapeTimeout.Token);
                idsAtResume = loops.Select(l => l.LastId).ToArray();
                output.WriteLine($"during the {Pause.TotalSeconds:F0} s pause: {roundTripsInPause} round trips (per second: {string.Join(", ", perSecond)}), "
                    + $"slowest {slowestInPause.TotalMilliseconds:F0} ms; {droppedInPause} records dropped, /metrics says {droppedScrapedInPause} in all");
                Assert.All(perSecond, n => Assert.True(n > 100, $"a second of the pause relayed only {n} round trips: {string.Join(", ", perSecond)}"));
            }
            finally
            {
                await redis.ResumeAsync();
            }

            var resumed = Stopwatch.StartNew();
            Assert.True(roundTripsInPause > 1000, $"only {roundTripsInPause} round trips during the pause");
            Assert.True(slowestInPause < SlowestRoundTripAllowed, $"a round trip took {slowestInPause.TotalMilliseconds:F0} ms during the pause");
            Assert.True(droppedInPause > 0, "nothing was dropped while Redis was paused");
            Assert.True(droppedScrapedInPause >= droppedBefore + droppedInPause, $"/metrics says {droppedScrapedInPause} dropped, the queue {droppedBefore + droppedInPause}");

            // After SIGCONT: every attach's commands sent after the resume are stored again.
            await Eventually.HoldsAsync(async () =>
            {
                var ids = await LatestCommandIdsAsync(db, streamKey);
                return Enumerable.Range(0, Attaches).All(i => ids.Any(id => loops[i].Sent(id) && id > idsAtResume[i]));
            }, TimeSpan.FromSeconds(10), "records of commands sent after SIGCONT in the stream", pollMilliseconds: 100);
            var storedAgain = resumed.Elapsed;

            // And the drops stop: a second of the busy run after recovery goes into the stream whole.
            await Eventually.HoldsAsync(async () =>
            {
                var dropped = queue.Dropped;
                var commands = loops.Sum(l => l.RoundTrips);
                await Task.Delay(TimeSpan.FromSeconds(1));
                return queue.Dropped == dropped && loops.Sum(l => l.RoundTrips) - commands > 100;
            }, TimeSpan.FromSeconds(10), "a second without drops after SIGCONT", pollMilliseconds: 0);
            var ratesAfter = await RatesAsync(loops, seconds: 2);
            output.WriteLine($"after SIGCONT: records of new commands stored within {storedAgain.TotalSeconds:F2} s, no drops from {resumed.Elapsed.TotalSeconds:F2} s "
                + $"(round trips per second then: {string.Join(", ", ratesAfter)}); "
                + $"{queue.Dropped} dropped in all, {loops.Sum(l => l.RoundTrips)} round trips in all");
            Console.WriteLine($"[observation pause] {roundTripsInPause} round trips in the {Pause.TotalSeconds:F0} s pause, slowest {slowestInPause.TotalMilliseconds:F0} ms, "
                + $"{droppedInPause} dropped, records stored again {storedAgain.TotalSeconds:F2} s after SIGCONT");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(running);
        }

        foreach (var loop in loops)
        {
            Assert.Null(loop.Failure);
            await loop.Client.CloseAsync();
            await loop.Client.DisposeAsync();
        }

        // Every attach ended cleanly, and its end is recorded in the stream.
        await Eventually.HoldsAsync(async () =>
        {
            var entries = await db.StreamRangeAsync(streamKey, "-", "+", count: 200, messageOrder: Order.Descending);
            return entries.Select(Record).Count(r => r?.Type == RecordTypes.AttachClosed && r.ConnectionId == connectionId) == Attaches;
        }, TimeSpan.FromSeconds(10), "attach.closed of every attach in the stream", pollMilliseconds: 50);
        Assert.Empty(fleet.Runtime.Errors);
    }

    private static async Task<long[]> RatesAsync(CommandLoop[] loops, int seconds)
    {
        var rates = new long[seconds];
        for (var i = 0; i < seconds; i++)
        {
            var before = loops.Sum(l => l.RoundTrips);
            await Task.Delay(TimeSpan.FromSeconds(1));
            rates[i] = loops.Sum(l => l.RoundTrips) - before;
        }

        return rates;
    }

    private static async Task<double> ScrapeDroppedAsync(RelayServer relay, CancellationToken cancellationToken)
    {
        using var response = await relay.Http.GetAsync("metrics", cancellationToken);
        response.EnsureSuccessStatusCode();
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var lines = text.Split('\n').Where(l => l.StartsWith("bctrl_relay_observation_dropped_total", StringComparison.Ordinal)).ToArray();
        Assert.True(lines.Length > 0, "no bctrl_relay_observation_dropped_total in /metrics");
        return lines.Sum(l => double.Parse(l.Split(' ')[1], CultureInfo.InvariantCulture));
    }

    /// <summary>The CDP ids of the commands among the newest records of the stream.</summary>
    private static async Task<long[]> LatestCommandIdsAsync(IDatabase db, RedisKey streamKey)
    {
        var entries = await db.StreamRangeAsync(streamKey, "-", "+", count: 2000, messageOrder: Order.Descending);
        return entries.Select(Record).Where(r => r?.Type == RecordTypes.CdpCommand && r.Id is not null).Select(r => r!.Id!.Value).ToArray();
    }

    private static ObservationRecord? Record(StreamEntry entry)
    {
        var value = entry["r"];
        return value.HasValue ? JsonSerializer.Deserialize((byte[])value!, ObservationJson.Default.ObservationRecord) : null;
    }

    /// <summary>
    /// One attach sending CDP commands in a closed loop to the echoing runtime: each command waits for its echo, which
    /// must be the same message. Each loop numbers its commands in its own range of ids, so that records tell them apart.
    /// </summary>
    private sealed class CommandLoop(AttachClient client)
    {
        private static long _nextId = 1_000_000;
        private readonly long _base = Interlocked.Add(ref _nextId, 1_000_000);
        private long _roundTrips;
        private long _lastId;
        private long _slowestTicks;

        public AttachClient Client => client;

        public long RoundTrips => Volatile.Read(ref _roundTrips);

        /// <summary>The id of the last command whose echo came back.</summary>
        public long LastId => Volatile.Read(ref _lastId);

        public TimeSpan Slowest => TimeSpan.FromTicks(Volatile.Read(ref _slowestTicks));

        public Exception? Failure { get; private set; }

        /// <summary>Whether <paramref name="id"/> is in this loop's range of command ids.</summary>
        public bool Sent(long id) => id > _base && id < _base + 1_000_000;

        public void ResetSlowest() => Volatile.Write(ref _slowestTicks, 0);

        public async Task RunAsync(CancellationToken stop)
        {
            try
            {
                for (var n = 1L; !stop.IsCancellationRequested; n++)
                {
                    var id = _base + n;
                    var command = Encoding.UTF8.GetBytes($$$"""{"id":{{{id}}},"method":"Page.navigate","params":{"url":"https://example.test/page/{{{id}}}","transitionType":"typed"}}""");
                    var started = Stopwatch.GetTimestamp();
                    await client.SendAsync(FakeRuntimeFrame.Text, command);
                    var echo = await client.ReadAsync();
                    var took = Stopwatch.GetElapsedTime(started);
                    Assert.Equal(FakeRuntimeFrame.Text, echo.Opcode);
                    Assert.True(echo.Payload.AsSpan().SequenceEqual(command), $"echo of command {id} differs: {echo.PayloadText}");
                    if (took.Ticks > Volatile.Read(ref _slowestTicks))
                    {
                        Volatile.Write(ref _slowestTicks, took.Ticks);
                    }

                    Volatile.Write(ref _lastId, id);
                    Interlocked.Increment(ref _roundTrips);
                }
            }
            catch (Exception exception)
            {
                Failure = exception;
            }
        }
    }
}
