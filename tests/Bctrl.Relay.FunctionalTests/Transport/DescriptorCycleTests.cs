using System.Diagnostics;
using System.Net.Sockets;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;
using Xunit.Abstractions;

namespace Bctrl.Relay.FunctionalTests.Transport;

/// <summary>
/// Issue 9: no file descriptor is left open after 10,000 attach cycles. The transport now owns every socket, including
/// the ones it detaches from Kestrel on an upgrade and the runtime legs it dials on its loops, so it must close every one
/// on every way an attach ends. The relay runs as a process of its own (its descriptors counted in <c>/proc</c>), and
/// each cycle attaches and echoes a frame through an echoing fake runtime, then ends in one of three ways in turn: a
/// clean close handshake, a client that vanishes without a close (FIN), a client that resets (RST) in the middle of a
/// frame. 16 cycles run at a time; the 10,000 take about 10 s on two cores.
/// </summary>
[Collection(Hostile.DescriptorCollection.Name)]
public sealed class DescriptorCycleTests(ITestOutputHelper output)
{
    private const int Cycles = 10_000;
    private const int WarmUpCycles = 200;
    private const int AtOnce = 16;

    /// <summary>
    /// Descriptors the relay may hold beyond its count before the cycles: a few the runtime opens lazily (a thread
    /// pool's, a timer's) and the scrape and control connections' keep-alive.
    /// </summary>
    private const int Margin = 8;

    [Fact(Timeout = 240_000)]
    public async Task Ten_thousand_attach_cycles_leave_no_descriptor_open()
    {
        await using var rig = await ChildRelayRig.StartAsync(new Dictionary<string, string>(), echo: true);

        // Warm up first, so that what a relay opens once (thread pools, event loops, lazily loaded assemblies) is counted
        // in the starting figure, then wait for it to be idle.
        await CyclesAsync(rig.Endpoint, WarmUpCycles);
        await rig.ScrapeUntilAsync(m => m.Sum("bctrl_relay_attach_live") == 0, "no live attach after the warm-up");
        var before = await SettledDescriptorsAsync(rig.Relay, _ => true);

        var watch = Stopwatch.StartNew();
        await CyclesAsync(rig.Endpoint, Cycles);
        output.WriteLine($"{Cycles} cycles in {watch.Elapsed.TotalSeconds:F1} s on {TestTransport.Effective}; {before} descriptors before");

        await rig.ScrapeUntilAsync(m => m.Sum("bctrl_relay_attach_live") == 0, "no live attach after the cycles");
        var after = await SettledDescriptorsAsync(rig.Relay, count => count <= before + Margin);
        output.WriteLine($"{after} descriptors after");
        Assert.True(after <= before + Margin, $"the relay held {before} descriptors before {Cycles} attach cycles and {after} after them");
        Assert.True(rig.Runtime.AcceptedConnections >= WarmUpCycles + Cycles, $"the runtime saw {rig.Runtime.AcceptedConnections} connections");
        Assert.Empty(rig.Runtime.Errors);
        Assert.False(rig.Relay.HasExited, rig.Relay.Output);
    }

    /// <summary>Runs <paramref name="count"/> cycles, <see cref="AtOnce"/> at a time; each fails the test if it goes wrong.</summary>
    private static async Task CyclesAsync(Uri endpoint, int count)
    {
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, AtOnce).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i <= count; i = Interlocked.Increment(ref next))
            {
                await CycleAsync(endpoint, i);
            }
        })));
    }

    private static async Task CycleAsync(Uri endpoint, int cycle)
    {
        await using var client = await RawClient.OpenAsync(endpoint);
        var payload = System.Text.Encoding.ASCII.GetBytes($"{{\"id\":{cycle},\"method\":\"Browser.getVersion\"}}");
        await client.SendFrameAsync(FakeRuntimeFrame.Text, payload);
        var echo = await client.ReadFrameAsync();
        Assert.True(echo.Payload.AsSpan().SequenceEqual(payload), $"cycle {cycle}: the echo was {echo}");
        switch (cycle % 3)
        {
            case 0:
                await client.SendCloseAsync(1000);
                var close = await client.ReadFrameAsync();
                Assert.True(close.Opcode == FakeRuntimeFrame.Close && close.CloseCode == 1000, $"cycle {cycle}: expected the close answered, got {close}");
                Assert.Equal(0, await client.ReadToEndAsync());
                break;
            case 1:
                client.Socket.Shutdown(SocketShutdown.Both);
                break;
            default:
                await client.SendRawAsync(RawClient.Frame(FakeRuntimeFrame.Binary, new byte[20_000])[..9_000]);
                client.Socket.LingerState = new LingerOption(true, 0);
                client.Socket.Close();
                break;
        }
    }

    /// <summary>
    /// The relay's descriptor count once <paramref name="enough"/> holds for it and it has stopped moving (the same over
    /// half a second), or after 20 s.
    /// </summary>
    private static async Task<int> SettledDescriptorsAsync(Processes.RelayChildProcess relay, Func<int, bool> enough)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var last = relay.OpenDescriptors();
        while (true)
        {
            await Task.Delay(500);
            var now = relay.OpenDescriptors();
            if ((now == last && enough(now)) || DateTime.UtcNow > deadline)
            {
                return now;
            }

            last = now;
        }
    }
}
