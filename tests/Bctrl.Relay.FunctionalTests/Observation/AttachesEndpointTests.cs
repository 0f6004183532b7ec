using System.Text.Json;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Observation;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Observation;

/// <summary>
/// Issue 4: <c>GET /v1/runtimes/{id}/connections/{cid}/attaches</c> lists each attach's recording metadata (docs/design.md §6):
/// times, close codes, reason and who closed, bytes and frames each way, commands by domain, client address and agent.
/// </summary>
public sealed class AttachesEndpointTests
{
    private const string UserAgent = "ObservationTests/1.0 (attach metadata)";

    [Fact(Timeout = 30_000)]
    public async Task A_live_attach_is_listed_then_its_closed_metadata_counts_what_it_moved()
    {
        await using var rig = await ObservationRig.StartAsync();
        var lease = await rig.CreateLeaseAsync();
        var (client, runtime) = await rig.AttachAsync(lease, $"User-Agent: {UserAgent}\r\n");
        await using var clientScope = client;
        var responder = ObservationRig.RespondAsync(runtime);

        var live = Assert.Single(await rig.GetAttachesAsync(lease.Id));
        Assert.Equal(lease.Id, live.GetProperty("connectionId").GetString());
        Assert.Equal(ObservationRig.RuntimeId, live.GetProperty("runtimeId").GetString());
        Assert.Equal("127.0.0.1", live.GetProperty("clientAddress").GetString());
        Assert.Equal(UserAgent, live.GetProperty("userAgent").GetString());
        Assert.True(live.GetProperty("openedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
        foreach (var absent in new[] { "closedAt", "reason", "closedBy" })
        {
            Assert.False(live.TryGetProperty(absent, out var value) && value.ValueKind != JsonValueKind.Null, $"a live attach has {absent}: {live}");
        }

        byte[][] frames =
        [
            ObservationRig.Command(1, "Page.enable"),
            ObservationRig.Command(2, "Page.navigate", """{"url":"http://127.0.0.1/x"}"""),
            ObservationRig.Command(3, "Runtime.evaluate", """{"expression":"1+1"}"""),
            RawClient.Frame(FakeRuntimeFrame.Ping, "client ping"u8.ToArray()),
            RawClient.Frame(FakeRuntimeFrame.Close, FakeRuntimeFrame.ClosePayload(1000, "done")),
        ];
        foreach (var frame in frames[..3])
        {
            await client.SendRawAsync(frame);
            await client.ReadFrameSkippingPingsAsync();
            await client.ReadFrameSkippingPingsAsync();
        }

        await client.SendRawAsync(frames[3]);
        await client.SendRawAsync(frames[4]);
        var runtimeBytes = await responder;
        Assert.Equal(1000, (await client.ReadFrameSkippingPingsAsync()).CloseCode);

        var closed = Assert.Single(await rig.WaitForAttachesAsync(lease.Id, a => a.Length == 1 && a[0].TryGetProperty("closedAt", out _)));
        Assert.Equal(live.GetProperty("attachId").GetInt64(), closed.GetProperty("attachId").GetInt64());
        Assert.Equal(live.GetProperty("openedAt").GetDateTimeOffset(), closed.GetProperty("openedAt").GetDateTimeOffset());
        Assert.True(closed.GetProperty("closedAt").GetDateTimeOffset() >= closed.GetProperty("openedAt").GetDateTimeOffset());
        Assert.Equal("client_closed", closed.GetProperty("reason").GetString());
        Assert.Equal("client", closed.GetProperty("closedBy").GetString());
        Assert.Equal(1000, closed.GetProperty("clientCloseCode").GetInt32());
        Assert.Equal(1000, closed.GetProperty("runtimeCloseCode").GetInt32());
        Assert.Equal(0, closed.GetProperty("relayCloseToClient").GetInt32());
        Assert.Equal(0, closed.GetProperty("relayCloseToRuntime").GetInt32());
        Assert.Equal(frames.Sum(f => (long)f.Length), closed.GetProperty("bytesFromClient").GetInt64());
        Assert.Equal(runtimeBytes, closed.GetProperty("bytesFromRuntime").GetInt64());
        Assert.Equal(5, closed.GetProperty("framesFromClient").GetInt64());
        Assert.Equal(3 + 3 + 1, closed.GetProperty("framesFromRuntime").GetInt64()); // events, results, the close (the fake runtime answers no ping)
        Assert.Equal(3, closed.GetProperty("messagesFromClient").GetInt64());
        Assert.Equal(6, closed.GetProperty("messagesFromRuntime").GetInt64());
        Assert.Equal(
            new Dictionary<string, long> { ["Page"] = 2, ["Runtime"] = 1 },
            closed.GetProperty("commandsByDomain").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()));
        Assert.Equal(UserAgent, closed.GetProperty("userAgent").GetString());

        // The run's record carries the same metadata.
        var records = await rig.ReadRecordsUntilAsync(e => e.Type == RecordTypes.AttachClosed);
        Assert.Equal(live.GetRawText(), records[0].Json.GetProperty("attach").GetRawText());
        Assert.Equal(closed.GetRawText(), records[^1].Json.GetProperty("attach").GetRawText());
    }

    public static TheoryData<string> Ends => new() { "client_closed", "runtime_closed", "runtime_gone", "client_gone", "lease_terminated" };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(Ends))]
    public async Task Each_way_an_attach_ends_is_recorded_with_its_codes_reason_and_closer(string end)
    {
        await using var rig = await ObservationRig.StartAsync();
        var lease = await rig.CreateLeaseAsync();
        var (client, runtime) = await rig.AttachAsync(lease);
        await using var clientScope = client;
        await client.SendRawAsync(ObservationRig.Command(1, "Page.enable"));
        await runtime.ReadFrameAsync();

        switch (end)
        {
            case "client_closed":
                await client.SendCloseAsync(4100, "client done");
                Assert.Equal(4100, (await runtime.ReadFrameAsync()).CloseCode);
                await runtime.SendCloseAsync(4100);
                runtime.Drop();
                Assert.Equal(4100, (await client.ReadFrameSkippingPingsAsync()).CloseCode);
                break;
            case "runtime_closed":
                await runtime.SendCloseAsync(4321, "target gone");
                Assert.Equal(4321, (await client.ReadFrameSkippingPingsAsync()).CloseCode);
                await client.SendCloseAsync(4321);
                Assert.Equal(4321, (await runtime.ReadFrameAsync()).CloseCode);
                runtime.Drop();
                break;
            case "runtime_gone":
                runtime.Drop();
                Assert.Equal(1014, (await client.ExpectCloseAndAnswerAsync()).CloseCode);
                break;
            case "client_gone":
                await client.DisposeAsync();
                Assert.Equal(1001, (await runtime.ReadFrameAsync()).CloseCode);
                break;
            case "lease_terminated":
                await rig.Relay.DeleteConnectionAsync(ObservationRig.RuntimeId, lease.Id, terminate: true);
                Assert.Equal(4001, (await client.ExpectCloseAndAnswerAsync()).CloseCode);
                Assert.Equal(4001, (await runtime.ReadFrameAsync()).CloseCode);
                break;
        }

        var closed = Assert.Single(await rig.WaitForAttachesAsync(lease.Id, a => a.Length == 1 && a[0].TryGetProperty("closedAt", out _)));
        (string ClosedBy, int Client, int Runtime, int ToClient, int ToRuntime) expected = end switch
        {
            "client_closed" => ("client", 4100, 4100, 0, 0),
            "runtime_closed" => ("runtime", 4321, 4321, 0, 0),
            "runtime_gone" => ("runtime", 0, 0, 1014, 0),
            "client_gone" => ("client", 0, 0, 0, 1001),
            _ => ("relay", 0, 0, 4001, 4001),
        };
        Assert.Equal(end, closed.GetProperty("reason").GetString());
        Assert.Equal(expected.ClosedBy, closed.GetProperty("closedBy").GetString());
        Assert.Equal(expected.Runtime, closed.GetProperty("runtimeCloseCode").GetInt32());
        Assert.Equal(expected.ToClient, closed.GetProperty("relayCloseToClient").GetInt32());
        Assert.Equal(expected.ToRuntime, closed.GetProperty("relayCloseToRuntime").GetInt32());
        if (expected.Client != 0)
        {
            Assert.Equal(expected.Client, closed.GetProperty("clientCloseCode").GetInt32());
        }

        Assert.Equal(1, closed.GetProperty("commandsByDomain").GetProperty("Page").GetInt64());
    }

    [Fact(Timeout = 30_000)]
    public async Task Every_attach_of_a_connection_is_listed_oldest_first_and_only_under_its_runtime()
    {
        await using var rig = await ObservationRig.StartAsync();
        var lease = await rig.CreateLeaseAsync();
        var other = await rig.CreateLeaseAsync();
        for (var i = 0; i < 3; i++)
        {
            var (client, runtime) = await rig.AttachAsync(lease);
            await using var clientScope = client;
            var responder = ObservationRig.RespondAsync(runtime, eventEach: false);
            await client.SendRawAsync(ObservationRig.Command(1, "Target.getTargets"));
            await client.ReadFrameSkippingPingsAsync();
            await client.SendCloseAsync(1000);
            await responder;
        }

        var attaches = await rig.WaitForAttachesAsync(lease.Id, a => a.Length == 3 && a.All(x => x.TryGetProperty("closedAt", out _)));
        var ids = attaches.Select(a => a.GetProperty("attachId").GetInt64()).ToArray();
        Assert.Equal(ids.Order(), ids);
        Assert.Empty(await rig.GetAttachesAsync(other.Id));

        await rig.Relay.PutRuntimeAsync("rt-other", rig.Runtime.WebSocketUrl);
        foreach (var path in new[]
        {
            $"v1/runtimes/rt-other/connections/{lease.Id}/attaches",
            $"v1/runtimes/{ObservationRig.RuntimeId}/connections/{Guid.NewGuid()}/attaches",
            $"v1/runtimes/{ObservationRig.RuntimeId}/connections/not-a-guid/attaches",
        })
        {
            using var response = await rig.Relay.Http.GetAsync(path);
            await Control.ApiAssert.ErrorAsync(response, 404, "connection_not_found");
        }
    }
}
