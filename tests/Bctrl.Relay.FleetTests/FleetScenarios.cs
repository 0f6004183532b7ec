using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Bctrl.Relay.FleetTests.Infrastructure;
using Bctrl.Relay.Testing;
using Xunit.Abstractions;

namespace Bctrl.Relay.FleetTests;

/// <summary>
/// Issue 3's lease, attach and revoke tests on three relays sharing one Redis deployment; run against a single Redis
/// (<see cref="SingleRedisTests"/>) and a three-master Redis Cluster (<see cref="ClusterTests"/>).
/// </summary>
public abstract class FleetScenarios(ITestOutputHelper output)
{
    protected abstract string Redis { get; }

    protected abstract string Label { get; }

    [Fact(Timeout = 60_000)]
    public async Task A_lease_created_on_A_attaches_on_B_and_C_and_its_counts_sum_over_the_nodes()
    {
        await using var fleet = await Fleet.StartAsync(Redis);
        var (id, endpoint) = await fleet.CreateLeaseAsync(fleet.A);

        await using var onB = await AttachClient.OpenAsync(fleet.B.BaseUrl, endpoint);
        await using var onC = await AttachClient.OpenAsync(fleet.C.BaseUrl, endpoint);
        var trafficB = new Traffic(onB, 1);
        var trafficC = new Traffic(onC, 2);
        await trafficB.RoundTripAsync();
        await trafficC.RoundTripAsync();
        trafficB.AssertIntact();
        trafficC.AssertIntact();

        await Eventually.HoldsAsync(async () => await Api.AttachCountsAsync(fleet.A, id) == (2, 2), TimeSpan.FromSeconds(5), "A sees 2 live, 2 total");
        Assert.Equal((2, 2), await Api.AttachCountsAsync(fleet.C, id));

        await onB.CloseAsync();
        await Eventually.HoldsAsync(async () => await Api.AttachCountsAsync(fleet.B, id) == (1, 2), TimeSpan.FromSeconds(5), "B sees 1 live, 2 total");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_scoped_lease_made_on_A_keeps_its_scope_in_Redis_and_is_held_to_it_on_B()
    {
        await using var fleet = await Fleet.StartAsync(Redis);
        const string target = "8F2B0C6D4E1A3579BDF02468ACE13579";
        using var created = await fleet.A.Http.PostAsJsonAsync(
            $"v1/runtimes/{Fleet.RuntimeId}/connections", new { protocol = "cdp", scope = new { target } });
        Assert.Equal(201, (int)created.StatusCode);
        using var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var id = body.RootElement.GetProperty("id").GetString()!;
        var pageUrl = new Uri(body.RootElement.GetProperty("endpoint").GetProperty("url").GetString()!);

        // The record in Redis keeps the scope: B and C read it back, alone and in the list.
        using (var onB = JsonDocument.Parse(await fleet.B.Http.GetStringAsync($"v1/runtimes/{Fleet.RuntimeId}/connections/{id}")))
        {
            Assert.Equal(target, onB.RootElement.GetProperty("scope").GetProperty("target").GetString());
        }

        using (var listOnC = JsonDocument.Parse(await fleet.C.Http.GetStringAsync($"v1/runtimes/{Fleet.RuntimeId}/connections")))
        {
            var entry = Assert.Single(listOnC.RootElement.GetProperty("data").EnumerateArray());
            Assert.Equal(target, entry.GetProperty("scope").GetProperty("target").GetString());
        }

        // The token carries the scope to any node: the browser socket is refused on B, its page is not.
        var browserUrl = new Uri(pageUrl.AbsoluteUri[..pageUrl.AbsoluteUri.IndexOf("/devtools/", StringComparison.Ordinal)]);
        var refused = await AttachClient.AttachAsync(fleet.B.BaseUrl, browserUrl);
        Assert.Equal((403, "scope_forbidden"), (refused.Status, refused.ErrorCode));
        var admitted = await AttachClient.AttachAsync(fleet.B.BaseUrl, pageUrl);
        Assert.Equal(101, admitted.Status);
        await admitted.Client!.DisposeAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_policy_set_on_A_is_kept_in_Redis_and_enforced_on_B()
    {
        await using var fleet = await Fleet.StartAsync(Redis);
        using var created = await fleet.A.Http.PostAsJsonAsync(
            $"v1/runtimes/{Fleet.RuntimeId}/connections", new { protocol = "cdp", policy = new { preset = "noBrowserControl", deny = new[] { "Storage.*" } } });
        Assert.Equal(201, (int)created.StatusCode);
        using var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var id = body.RootElement.GetProperty("id").GetString()!;
        var endpoint = new Uri(body.RootElement.GetProperty("endpoint").GetProperty("url").GetString()!);

        using (var onC = JsonDocument.Parse(await fleet.C.Http.GetStringAsync($"v1/runtimes/{Fleet.RuntimeId}/connections/{id}")))
        {
            var policy = onC.RootElement.GetProperty("policy");
            Assert.Equal("noBrowserControl", policy.GetProperty("preset").GetString());
            Assert.Equal(["Storage.*"], policy.GetProperty("deny").EnumerateArray().Select(e => e.GetString()));
        }

        // B reads the policy from the record in Redis when it admits the attach: the denied command is answered by the
        // relay, the allowed one goes to the (echoing) runtime and comes back.
        await using var client = await AttachClient.OpenAsync(fleet.B.BaseUrl, endpoint);
        await client.SendAsync(FakeRuntimeFrame.Text, System.Text.Encoding.UTF8.GetBytes("""{"id":1,"method":"Storage.clearCookies"}"""));
        await client.SendAsync(FakeRuntimeFrame.Text, System.Text.Encoding.UTF8.GetBytes("""{"id":2,"method":"Page.enable"}"""));
        using (var answer = JsonDocument.Parse((await client.ReadAsync()).Payload))
        {
            Assert.Equal(1, answer.RootElement.GetProperty("id").GetInt32());
            Assert.Equal(-32000, answer.RootElement.GetProperty("error").GetProperty("code").GetInt32());
        }

        Assert.Equal("""{"id":2,"method":"Page.enable"}""", (await client.ReadAsync()).PayloadText);
        await client.CloseAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task An_artifact_captured_on_B_is_kept_in_Redis_and_listed_and_fetched_on_A_and_C()
    {
        await using var fleet = await Fleet.StartAsync(Redis);
        using var created = await fleet.A.Http.PostAsJsonAsync(
            $"v1/runtimes/{Fleet.RuntimeId}/connections", new { protocol = "cdp", record = new { artifacts = true } });
        Assert.Equal(201, (int)created.StatusCode);
        using var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var id = body.RootElement.GetProperty("id").GetString()!;
        var endpoint = new Uri(body.RootElement.GetProperty("endpoint").GetProperty("url").GetString()!);

        // The fleet's runtime echoes: a command that carries a result comes back as the answer to itself, which is
        // what a screenshot's result looks like to the relay (docs/artifacts.md).
        byte[] png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, .. Enumerable.Range(0, 5000).Select(i => (byte)(i * 7))];
        var message = System.Text.Encoding.UTF8.GetBytes(
            $$$"""{"id":1,"method":"Page.captureScreenshot","result":{"data":"{{{Convert.ToBase64String(png)}}}"}}""");
        await using (var client = await AttachClient.OpenAsync(fleet.B.BaseUrl, endpoint))
        {
            await client.SendAsync(FakeRuntimeFrame.Text, message);
            Assert.Equal(message, (await client.ReadAsync()).Payload);
            await client.CloseAsync();
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        JsonElement listed;
        while (true)
        {
            using var list = JsonDocument.Parse(await fleet.C.Http.GetStringAsync($"v1/runtimes/{Fleet.RuntimeId}/artifacts?connectionId={id}"));
            if (list.RootElement.GetProperty("data").GetArrayLength() == 1)
            {
                listed = list.RootElement.GetProperty("data")[0].Clone();
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "the artifact never reached C's list");
            await Task.Delay(100);
        }

        Assert.Equal("screenshot", listed.GetProperty("kind").GetString());
        Assert.Equal(1, listed.GetProperty("commandId").GetInt64());
        var artifactId = listed.GetProperty("id").GetString();
        using var bytes = await fleet.A.Http.GetAsync($"v1/runtimes/{Fleet.RuntimeId}/artifacts/{artifactId}");
        Assert.Equal(200, (int)bytes.StatusCode);
        Assert.Equal("image/png", bytes.Content.Headers.ContentType?.MediaType);
        Assert.Equal(png, await bytes.Content.ReadAsByteArrayAsync());
    }

    [Fact(Timeout = 120_000)]
    public async Task A_delete_on_A_refuses_new_attaches_on_B_and_C_within_a_second_p99_over_100_deletes()
    {
        await using var fleet = await Fleet.StartAsync(Redis);
        var (warm, warmEndpoint) = await fleet.CreateLeaseAsync(fleet.A);
        await using (var client = await AttachClient.OpenAsync(fleet.B.BaseUrl, warmEndpoint))
        {
            await client.CloseAsync();
        }

        var viewB = Fleet.View(fleet.B);
        var viewC = Fleet.View(fleet.C);
        var times = new List<double>();
        for (var i = 0; i < 100; i++)
        {
            var (id, endpoint) = await fleet.CreateLeaseAsync(fleet.A);
            Assert.False(viewB.IsRevoked(id) || viewC.IsRevoked(id));

            var watch = Stopwatch.StartNew();
            var delete = fleet.DeleteAsync(fleet.A, id);
            await Eventually.HoldsAsync(() => viewB.IsRevoked(id) && viewC.IsRevoked(id), TimeSpan.FromSeconds(5), "B and C refuse the deleted lease");
            times.Add(watch.Elapsed.TotalMilliseconds);
            await delete;

            if (i % 10 == 0)
            {
                // The view is what the gate reads: a real attach says the same.
                foreach (var relay in (RelayServer[])[fleet.B, fleet.C])
                {
                    var refused = await AttachClient.AttachAsync(relay.BaseUrl, endpoint);
                    Assert.Equal((401, "lease_revoked"), (refused.Status, refused.ErrorCode));
                }
            }
        }

        times.Sort();
        var p50 = times[49];
        var p99 = times[98];
        output.WriteLine($"[{Label}] delete on A → refused on B and C, 100 deletes: p50 {p50:F1} ms, p99 {p99:F1} ms, max {times[^1]:F1} ms");
        Console.WriteLine($"[{Label}] delete propagation p50 {p50:F1} ms, p99 {p99:F1} ms, max {times[^1]:F1} ms");
        Assert.True(p99 < 1000, $"p99 {p99} ms");
        Assert.False(Fleet.View(fleet.A).IsRevoked(warm));
    }

    [Fact(Timeout = 60_000)]
    public async Task Terminate_on_A_closes_live_attaches_on_A_and_C_within_two_seconds_with_4001()
    {
        await using var fleet = await Fleet.StartAsync(Redis);
        var (id, endpoint) = await fleet.CreateLeaseAsync(fleet.A);
        var (other, otherEndpoint) = await fleet.CreateLeaseAsync(fleet.B);
        await using var onA = await AttachClient.OpenAsync(fleet.A.BaseUrl, endpoint);
        await using var onC = await AttachClient.OpenAsync(fleet.C.BaseUrl, endpoint);
        await using var bystander = await AttachClient.OpenAsync(fleet.C.BaseUrl, otherEndpoint);
        await new Traffic(onC, 3).RoundTripAsync();

        var watch = Stopwatch.StartNew();
        await fleet.DeleteAsync(fleet.A, id, terminate: true);
        var closeOnC = await onC.ReadAsync();
        var elapsed = watch.Elapsed;
        var closeOnA = await onA.ReadAsync();

        output.WriteLine($"[{Label}] terminate on A → close on C after {elapsed.TotalMilliseconds:F1} ms");
        Assert.Equal((FakeRuntimeFrame.Close, (ushort)4001), (closeOnC.Opcode, closeOnC.CloseCode));
        Assert.Equal((FakeRuntimeFrame.Close, (ushort)4001), (closeOnA.Opcode, closeOnA.CloseCode));
        Assert.True(elapsed < TimeSpan.FromSeconds(2), $"{elapsed}");

        // Only that lease: the other one keeps relaying, and the terminated one is refused everywhere.
        var traffic = new Traffic(bystander, 4);
        await traffic.RoundTripAsync();
        traffic.AssertIntact();
        var refused = await AttachClient.AttachAsync(fleet.B.BaseUrl, endpoint);
        Assert.Equal((401, "lease_revoked"), (refused.Status, refused.ErrorCode));
        Assert.Equal("deleted", await Api.StateAsync(fleet.C, id));
        Assert.Equal("active", await Api.StateAsync(fleet.A, other));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_runtime_registered_replaced_and_deleted_on_one_node_is_seen_by_the_others()
    {
        await using var fleet = await Fleet.StartAsync(Redis);
        var (_, endpoint) = await fleet.CreateLeaseAsync(fleet.A);
        await using var second = FakeRuntime.Start();
        second.Echo = true;

        await fleet.B.PutRuntimeAsync(Fleet.RuntimeId, second.WebSocketUrl);
        await Eventually.HoldsAsync(async () => (await fleet.C.Http.GetStringAsync($"v1/runtimes/{Fleet.RuntimeId}")).Contains($":{second.Port}/", StringComparison.Ordinal),
            TimeSpan.FromSeconds(2), "C sees the replaced runtime");
        await using (var client = await AttachClient.OpenAsync(fleet.C.BaseUrl, endpoint))
        {
            await new Traffic(client, 5).RoundTripAsync();
        }

        Assert.Equal(1, second.AcceptedConnections);

        using var deleted = await fleet.A.Http.DeleteAsync($"v1/runtimes/{Fleet.RuntimeId}");
        Assert.Equal(204, (int)deleted.StatusCode);
        await Eventually.HoldsAsync(async () => (await AttachClient.AttachAsync(fleet.B.BaseUrl, endpoint)).ErrorCode == "runtime_not_found",
            TimeSpan.FromSeconds(2), "B refuses the deleted runtime's lease");
    }
}
