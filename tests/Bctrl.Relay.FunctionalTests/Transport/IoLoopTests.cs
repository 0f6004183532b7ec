using System.Diagnostics;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Transport;

/// <summary>
/// Issue 9: the relay transport splices on a fixed number of I/O loop threads of its own (<c>Relay:IoLoops</c>; 0 or
/// unset is one per core) and shows each loop's live attaches in the gauge <c>bctrl_relay_io_loop_attaches{loop}</c>.
/// Attaches spread over the loops, and a drain reaches the attaches of every loop. The relay runs as a process of its
/// own, so that its <c>/metrics</c> shows only its own attaches. On Kestrel's Sockets transport (the fallback) there are
/// no loops of the relay's: the gauge must be absent or zero there, and the drain must hold all the same.
/// </summary>
public sealed class IoLoopTests
{
    private const int Attaches = 8;

    private static readonly Dictionary<string, string> TwoLoops = new() { ["Relay:IoLoops"] = "2" };

    [Fact(Timeout = 60_000)]
    public async Task With_two_loops_eight_live_attaches_leave_no_loop_without_one()
    {
        await using var rig = await ChildRelayRig.StartAsync(TwoLoops, echo: true);
        var clients = new List<RawClient>();
        try
        {
            for (var i = 0; i < Attaches; i++)
            {
                var client = await RawClient.OpenAsync(rig.Endpoint);
                clients.Add(client);
                await EchoAsync(client, $"attach {i}");
            }

            var live = await rig.ScrapeUntilAsync(m => m.Sum("bctrl_relay_attach_live") == Attaches, $"{Attaches} live attaches");
            if (TestTransport.IsRelay)
            {
                var scrape = await rig.ScrapeUntilAsync(m => ChildRelayRig.LoopsOf(m).Values.Sum() == Attaches, $"{Attaches} attaches over the loops");
                var loops = ChildRelayRig.LoopsOf(scrape);
                Assert.True(loops.Keys.Order(StringComparer.Ordinal).SequenceEqual(["0", "1"]), $"Relay:IoLoops=2, but the gauge shows {ChildRelayRig.Describe(loops)}");
                Assert.True(loops.Values.All(v => v >= 1), $"a loop holds no attach of {Attaches}: {ChildRelayRig.Describe(loops)}");
                Assert.Equal("gauge", scrape.FamilyTypes[ChildRelayRig.LoopAttaches]);
            }
            else
            {
                var loops = ChildRelayRig.LoopsOf(live);
                Assert.True(loops.Values.All(v => v == 0), $"the Sockets transport has no loops of the relay's, but the gauge shows {ChildRelayRig.Describe(loops)}");
            }

            foreach (var client in clients)
            {
                await client.SendCloseAsync(1000);
                Assert.Equal(1000, (await client.ReadFrameAsync()).CloseCode);
                Assert.Equal(0, await client.ReadToEndAsync());
            }

            // Closed attaches leave their loops.
            var after = await rig.ScrapeUntilAsync(
                m => m.Sum("bctrl_relay_attach_live") == 0 && ChildRelayRig.LoopsOf(m).Values.All(v => v == 0), "every attach's end on the gauge");
            Assert.True(!TestTransport.IsRelay || ChildRelayRig.LoopsOf(after).Count == 2, ChildRelayRig.Describe(ChildRelayRig.LoopsOf(after)));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task A_drain_with_attaches_on_every_loop_closes_every_leg_with_1001_in_bounded_time()
    {
        await using var rig = await ChildRelayRig.StartAsync(TwoLoops, echo: false);
        var attaches = new List<(RawClient Client, FakeRuntimeConnection Runtime)>();
        try
        {
            for (var i = 0; i < Attaches; i++)
            {
                var client = await RawClient.OpenAsync(rig.Endpoint);
                var runtime = await rig.Runtime.NextConnectionAsync();
                attaches.Add((client, runtime));
                await TransportHarness.AssertRoundTripAsync(client, runtime, $"attach {i}");
            }

            // Where the attaches sit before the drain: asserted after it, so that a missing gauge does not hide how the drain went.
            await rig.ScrapeUntilAsync(m => m.Sum("bctrl_relay_attach_live") == Attaches, $"{Attaches} live attaches");
            var loops = TestTransport.IsRelay ? ChildRelayRig.LoopsOf(await rig.ScrapeWhenAsync(m => ChildRelayRig.LoopsOf(m).Values.Sum() == Attaches)) : null;

            // SIGTERM, as an orchestrator stops a node; every peer answers the relay's close as a well-behaved one does.
            var watch = Stopwatch.StartNew();
            var stopping = rig.Relay.StopAsync();
            var legs = attaches.SelectMany(a => (Task[])[ClientAnswersDrainAsync(a.Client), RuntimeAnswersDrainAsync(a.Runtime)]).ToArray();
            await Task.WhenAll(legs).WaitAsync(TimeSpan.FromSeconds(30));
            var output = await stopping;
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"the drain took {watch.Elapsed.TotalSeconds:F1} s");
            Assert.True(rig.Relay.HasExited);
            // The console logger's simple format: a level prefix ("info:", "fail:") line, then the message.
            Assert.True(output.Count(l => l.Contains("closed: Draining", StringComparison.Ordinal)) == Attaches, string.Join('\n', output));
            var failures = output.Where(l => l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("crit:", StringComparison.Ordinal)).ToArray();
            Assert.True(failures.Length == 0, string.Join('\n', output));
            Assert.True(loops is null || (loops.Count == 2 && loops.Values.All(v => v >= 1)), $"not every loop held an attach before the drain: {ChildRelayRig.Describe(loops ?? new Dictionary<string, double>())}");
        }
        finally
        {
            foreach (var (client, _) in attaches)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static async Task EchoAsync(RawClient client, string what)
    {
        var payload = System.Text.Encoding.UTF8.GetBytes(what);
        await client.SendFrameAsync(FakeRuntimeFrame.Text, payload);
        Assert.Equal(payload, (await client.ReadFrameAsync()).Payload);
    }

    private static async Task ClientAnswersDrainAsync(RawClient client)
    {
        var close = await client.ReadFrameSkippingPingsAsync();
        Assert.Equal((FakeRuntimeFrame.Close, false, (ushort)1001, "relay draining"), (close.Opcode, close.Masked, close.CloseCode, close.CloseReason));
        await client.SendCloseAsync(1001);
        Assert.Equal(0, await client.ReadToEndAsync());
    }

    private static async Task RuntimeAnswersDrainAsync(FakeRuntimeConnection runtime)
    {
        var close = await runtime.ReadFrameAsync();
        Assert.Equal((FakeRuntimeFrame.Close, true, (ushort)1001, "relay draining"), (close.Opcode, close.Masked, close.CloseCode, close.CloseReason));
        await runtime.SendCloseAsync(1001);
        runtime.Drop();
    }
}
