using System.Diagnostics;
using Bctrl.Relay.FunctionalTests.Observation;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Transport;

/// <summary>
/// Issue 9: both sides closing at once. The client and the runtime send their close frames at the same moment, so the
/// two closes cross in the relay. Each peer gets the other's close passed through and nothing of the relay's own (the
/// relay never sends a leg a second close, README's "How an attach ends"), both connections end within the close
/// timeout, nothing is logged as an error, and the attach's record and metrics show a clean close. Reads
/// <c>/metrics</c>, so it runs alone.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class SimultaneousCloseTests
{
    private const int Rounds = 12;

    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Room on a busy two-core machine for the relay's own scheduling, on top of the close timeout.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(2);

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Relay:Limits:CloseTimeout"] = "00:00:02",
        ["Relay:KeepAlive:Interval"] = "00:10:00",
        ["Relay:KeepAlive:Timeout"] = "00:10:00",
    };

    private static readonly byte[] ClientClose = RawClient.Frame(FakeRuntimeFrame.Close, FakeRuntimeFrame.ClosePayload(1000, "client done"));
    private static readonly byte[] RuntimeClose = FakeRuntimeFrame.Encode(FakeRuntimeFrame.Close, FakeRuntimeFrame.ClosePayload(1001, "runtime going"));

    /// <summary>The runtime acts as a server does (RFC 6455 §7.1.1): once it has sent its close and has the client's, it ends TCP.</summary>
    [Fact(Timeout = 120_000)]
    public async Task Closes_crossing_in_the_relay_reach_both_peers_and_end_the_attach_cleanly()
    {
        await using var rig = await ObservationRig.StartAsync(Settings);
        var lease = await rig.CreateLeaseAsync();
        for (var round = 1; round <= Rounds; round++)
        {
            var what = $"round {round}";
            var (client, runtime) = await rig.AttachAsync(lease);
            await using var clientScope = client;
            await TransportHarness.AssertRoundTripAsync(client, runtime, what);

            var watch = await CrossClosesAsync(client, runtime);
            WireBytes.AssertSame(ClientClose, await runtime.Wire.ReadExactlyAsync(ClientClose.Length), $"{what}: what the runtime got after the closes crossed");
            runtime.Drop();
            var clientGot = await WireBytes.ReadAllAsync(client.Wire);
            var clientEnded = watch.Elapsed;
            WireBytes.AssertSame(RuntimeClose, clientGot, $"{what}: what the client got after the closes crossed");
            Assert.True(clientEnded < CloseTimeout + Slack, $"{what}: the client's connection ended after {clientEnded.TotalSeconds:F2} s");

            var record = (await rig.WaitForAttachesAsync(lease.Id, a => a.Length == round && a.All(r => r.TryGetProperty("closedAt", out _))))
                .MaxBy(r => r.GetProperty("attachId").GetInt64());
            Assert.Contains(record.GetProperty("reason").GetString(), (string[])["client_closed", "runtime_closed"]);
            Assert.Contains(record.GetProperty("closedBy").GetString(), (string[])["client", "runtime"]);
            Assert.Equal(1000, record.GetProperty("clientCloseCode").GetInt32());
            Assert.Equal(1001, record.GetProperty("runtimeCloseCode").GetInt32());
            Assert.Equal(0, record.GetProperty("relayCloseToClient").GetInt32());
            Assert.Equal(0, record.GetProperty("relayCloseToRuntime").GetInt32());
        }

        var metrics = await rig.ScrapeUntilAsync(m => m.Sum("bctrl_relay_attach_closes_total") == Rounds && m.Sum("bctrl_relay_attach_live") == 0, "every round's close");
        var clean = (metrics.Sum("bctrl_relay_attach_closes_total", ("reason", "client_closed")) ?? 0)
            + (metrics.Sum("bctrl_relay_attach_closes_total", ("reason", "runtime_closed")) ?? 0);
        Assert.True(clean == Rounds, $"closes by reason: {string.Join(", ", metrics.Samples.Where(s => s.Name == "bctrl_relay_attach_closes_total").Select(s => $"{s.Key} {s.Value}"))}");
        AssertNoErrorLogged(rig.Relay);
        Assert.Empty(rig.Runtime.Errors);
    }

    /// <summary>
    /// Neither peer ends TCP after the closes crossed: the closing handshake is complete on both legs, so the relay must
    /// end both connections itself, within the close timeout (RFC 6455 §7.1.1 lets the runtime's client, the relay, end TCP
    /// when the server does not in a reasonable time), rather than hold them and their descriptors.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task Closes_crossing_in_the_relay_end_both_connections_within_the_close_timeout_when_no_peer_ends_TCP()
    {
        await using var rig = await ObservationRig.StartAsync(Settings);
        var lease = await rig.CreateLeaseAsync();
        for (var round = 1; round <= 3; round++)
        {
            var what = $"round {round}";
            var (client, runtime) = await rig.AttachAsync(lease);
            await using var clientScope = client;
            await using var runtimeScope = runtime;

            var watch = await CrossClosesAsync(client, runtime);
            var clientEnd = Task.Run(async () => (Bytes: await WireBytes.ReadAllAsync(client.Wire), At: watch.Elapsed));
            var runtimeEnd = Task.Run(async () => (Bytes: await WireBytes.ReadAllAsync(runtime.Wire), At: watch.Elapsed));
            var (clientGot, clientEnded) = await clientEnd;
            var (runtimeGot, runtimeEnded) = await runtimeEnd;
            WireBytes.AssertSame(RuntimeClose, clientGot, $"{what}: what the client got after the closes crossed");
            WireBytes.AssertSame(ClientClose, runtimeGot, $"{what}: what the runtime got after the closes crossed");
            Assert.True(clientEnded < CloseTimeout + Slack, $"{what}: the client's connection ended after {clientEnded.TotalSeconds:F2} s");
            Assert.True(runtimeEnded < CloseTimeout + Slack, $"{what}: the runtime's connection ended after {runtimeEnded.TotalSeconds:F2} s");
        }

        await rig.ScrapeUntilAsync(m => m.Sum("bctrl_relay_attach_live") == 0, "no live attach");
        AssertNoErrorLogged(rig.Relay);
    }

    /// <summary>Both peers write their close from their own thread at the same moment; returns a watch started then.</summary>
    private static async Task<Stopwatch> CrossClosesAsync(RawClient client, FakeRuntimeConnection runtime)
    {
        using var start = new Barrier(2);
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(
            Task.Run(async () =>
            {
                start.SignalAndWait();
                await client.SendRawAsync(ClientClose);
            }),
            Task.Run(async () =>
            {
                start.SignalAndWait();
                await runtime.SendRawAsync(RuntimeClose);
            }));
        return watch;
    }

    private static void AssertNoErrorLogged(RelayServer relay)
    {
        var errors = relay.Logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal)).ToArray();
        Assert.True(errors.Length == 0, string.Join('\n', errors));
    }
}
