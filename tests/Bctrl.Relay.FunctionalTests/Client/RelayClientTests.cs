using System.Net;
using Bctrl.Relay.Client;
using Bctrl.Relay.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bctrl.Relay.FunctionalTests.Client;

/// <summary>The .NET client (src/Bctrl.Relay.Client) against a real relay: runtimes, connections, attach records, errors, DI.</summary>
public sealed class RelayClientTests
{
    [Fact(Timeout = 30_000)]
    public async Task Runtimes_are_put_listed_got_replaced_and_deleted()
    {
        await using var rig = await ClientRig.StartAsync();
        var runtimes = rig.Client.Runtimes;

        var put = await runtimes.PutAsync("rt-two", rig.Runtime.HttpUrl);
        Assert.Equal("rt-two", put.Id);
        Assert.Equal(rig.Runtime.HttpUrl, put.CdpUrl);

        var replaced = await runtimes.PutAsync("rt-two", rig.Runtime.WebSocketUrl);
        Assert.Equal(rig.Runtime.WebSocketUrl, replaced.CdpUrl);
        Assert.Equal(put.CreatedAt, replaced.CreatedAt);
        Assert.Equal(rig.Runtime.WebSocketUrl, (await runtimes["rt-two"].GetAsync()).CdpUrl);

        var all = await runtimes.ListAsync();
        Assert.Equal([ClientRig.RuntimeId, "rt-two"], all.Select(r => r.Id).Order(StringComparer.Ordinal));

        await runtimes.DeleteAsync("rt-two");
        var gone = await Assert.ThrowsAsync<RelayApiException>(() => runtimes.GetAsync("rt-two"));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal("runtime_not_found", gone.Code);
        Assert.Equal([ClientRig.RuntimeId], (await runtimes.ListAsync()).Select(r => r.Id));
    }

    [Fact(Timeout = 30_000)]
    public async Task Scope_policy_and_interactive_are_sent_and_read_back()
    {
        await using var rig = await ClientRig.StartAsync();
        var connections = rig.Rt.Connections;

        var guarded = await connections.CreateAsync(new()
        {
            Scope = new ConnectionScope("PAGE1"),
            Policy = ConnectionPolicy.NoBrowserControl with { Deny = ["Storage.*"] },
        });
        Assert.Equal("PAGE1", guarded.Scope!.Target);
        Assert.Equal("noBrowserControl", guarded.Policy!.Preset);
        Assert.EndsWith("/devtools/page/PAGE1", guarded.Endpoint.Url.AbsolutePath, StringComparison.Ordinal);
        Assert.Null(guarded.Interactive);

        var read = await connections.GetAsync(guarded.Id);
        Assert.Equal("PAGE1", read.Scope!.Target);
        Assert.Equal(["Storage.*"], read.Policy!.Deny!);
        Assert.Null(read.Policy.Allow);

        var limited = await connections.CreateAsync(new() { Quotas = new ConnectionQuotas(CommandsPerSecond: 20, MaxBytes: 1 << 20) });
        Assert.Equal(new ConnectionQuotas(20, null, null, 1 << 20), (await connections.GetAsync(limited.Id)).Quotas);

        var live = await connections.CreateAsync(new() { Protocol = "live", Interactive = true });
        Assert.True(live.Interactive);
        Assert.Null(live.Policy);

        var refused = await Assert.ThrowsAsync<RelayApiException>(() => connections.CreateAsync(new() { Policy = new ConnectionPolicy(Deny: ["Browser"]) }));
        Assert.Equal("invalid_policy", refused.Code);
    }

    [Fact(Timeout = 30_000)]
    public async Task Artifacts_are_asked_for_listed_filtered_and_fetched()
    {
        await using var rig = await ClientRig.StartAsync();
        var created = await rig.Rt.Connections.CreateAsync(new() { Record = new ConnectionRecording(Artifacts: true) });
        Assert.True(created.Record!.Artifacts);
        Assert.True((await rig.Rt.Connections.GetAsync(created.Id)).Record!.Artifacts);

        // The echoing runtime answers a command that carries a result with itself: to the relay, a screenshot's result.
        byte[] png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 42];
        using var socket = await ClientRig.AttachAsync(created.Endpoint.Url);
        for (var id = 1; id <= 3; id++)
        {
            var message = System.Text.Encoding.UTF8.GetBytes(
                $$$"""{"id":{{{id}}},"method":"Page.captureScreenshot","result":{"data":"{{{Convert.ToBase64String(png)}}}"}}""");
            await socket.SendAsync(message, System.Net.WebSockets.WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            var buffer = new byte[1024];
            await socket.ReceiveAsync(buffer, CancellationToken.None);
        }

        await ClientRig.CloseAsync(socket);
        IReadOnlyList<Artifact> listed = [];
        for (var wait = 0; wait < 100 && listed.Count < 3; wait++)
        {
            await Task.Delay(50);
            listed = await rig.Rt.Artifacts.ListAsync(created.Id, "screenshot");
        }

        Assert.Equal([1L, 2L, 3L], listed.Select(a => a.CommandId!.Value));
        Assert.All(listed, a => Assert.Equal(created.Id, a.ConnectionId));
        Assert.Empty(await rig.Rt.Artifacts.ListAsync(created.Id, "pdf"));
        var content = await rig.Rt.Artifacts.GetAsync(listed[0].Id);
        Assert.Equal(png, content.Bytes);
        Assert.Equal("image/png", content.ContentType);
        var missing = await Assert.ThrowsAsync<RelayApiException>(() => rig.Rt.Artifacts.GetAsync("0123456789abcdef0123456789abcdef"));
        Assert.Equal("artifact_not_found", missing.Code);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_connection_is_created_attached_listed_got_and_deleted_with_terminate()
    {
        await using var rig = await ClientRig.StartAsync();
        var connections = rig.Rt.Connections;

        var created = await connections.CreateAsync(new() { Protocol = "cdp", Ttl = TimeSpan.FromMinutes(5) });
        Assert.Equal(ClientRig.RuntimeId, created.RuntimeId);
        Assert.Equal("cdp", created.Protocol);
        Assert.Equal(TimeSpan.FromMinutes(5), created.ExpiresAt - created.CreatedAt);
        Assert.Equal("ws", created.Endpoint.Url.Scheme);
        Assert.Equal(rig.Relay.BaseUrl.Authority, created.Endpoint.Url.Authority);

        var socket = await ClientRig.AttachAsync(created.Endpoint.Url);
        await ClientRig.CommandsAsync(socket, 1, 3);
        var live = await connections.GetAsync(created.Id);
        Assert.Equal("active", live.State);
        Assert.Equal(new AttachCounts(1, 1), live.Attaches);

        var other = await connections.CreateAsync();
        var listed = await connections.ListAsync();
        Assert.Equal([other.Id, created.Id], listed.Select(c => c.Id));

        await connections.DeleteAsync(created.Id, terminate: true);
        var buffer = new byte[256];
        var closed = await socket.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal(System.Net.WebSockets.WebSocketMessageType.Close, closed.MessageType);
        Assert.Equal(4001, (int)socket.CloseStatus!.Value);
        socket.Dispose();
        Assert.Equal("deleted", (await connections.GetAsync(created.Id)).State);

        // Deleting again is idempotent; an id the runtime never had is a 404.
        await connections.DeleteAsync(created.Id);
        var missing = await Assert.ThrowsAsync<RelayApiException>(() => connections.GetAsync(Guid.NewGuid()));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("connection_not_found", missing.Code);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_attach_records_of_a_connection_say_what_each_attach_moved()
    {
        await using var rig = await ClientRig.StartAsync();
        var created = await rig.Rt.Connections.CreateAsync();
        var socket = await ClientRig.AttachAsync(created.Endpoint.Url);
        await ClientRig.CommandsAsync(socket, 1, 4, "DOM.enable");
        await ClientRig.CloseAsync(socket);

        IReadOnlyList<AttachRecord> records;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        do
        {
            records = await rig.Rt.Connections.ListAttachesAsync(created.Id);
            await Task.Delay(20);
        }
        while ((records.Count == 0 || records[0].ClosedAt is null) && DateTime.UtcNow < deadline);

        var record = Assert.Single(records);
        Assert.Equal(created.Id, record.ConnectionId);
        Assert.Equal(ClientRig.RuntimeId, record.RuntimeId);
        Assert.NotNull(record.ClosedAt);
        Assert.Equal("client", record.ClosedBy);
        Assert.Equal(4, record.MessagesFromClient);
        Assert.Equal(4, record.MessagesFromRuntime);
        Assert.Equal(4, record.CommandsByDomain!["DOM"]);
    }

    [Fact(Timeout = 30_000)]
    public async Task Refusals_surface_as_RelayApiException_with_status_and_code_and_never_the_key()
    {
        await using var rig = await ClientRig.StartAsync();

        const string WrongKey = "wrong-key-5d1c0a9e7f";
        using var stranger = new RelayClient(rig.Relay.BaseUrl, WrongKey);
        var unauthorized = await Assert.ThrowsAsync<RelayApiException>(() => stranger.Runtimes.ListAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal("unauthorized", unauthorized.Code);
        Assert.DoesNotContain(WrongKey, unauthorized.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(RelayServer.ControlKey, unauthorized.ToString(), StringComparison.Ordinal);

        var runtimeMissing = await Assert.ThrowsAsync<RelayApiException>(() => rig.Client.Runtimes["nope"].Connections.CreateAsync());
        Assert.Equal(HttpStatusCode.NotFound, runtimeMissing.StatusCode);
        Assert.Equal("runtime_not_found", runtimeMissing.Code);
        Assert.Equal("The runtime does not exist.", runtimeMissing.Message);

        var badTtl = await Assert.ThrowsAsync<RelayApiException>(() => rig.Rt.Connections.CreateAsync(new() { Ttl = TimeSpan.FromDays(3650) }));
        Assert.Equal(HttpStatusCode.BadRequest, badTtl.StatusCode);
        Assert.Equal("invalid_ttl", badTtl.Code);

        var badId = await Assert.ThrowsAsync<RelayApiException>(() => rig.Client.Runtimes.PutAsync("no spaces", rig.Runtime.WebSocketUrl));
        Assert.Equal("invalid_runtime_id", badId.Code);

        var badFilter = await Assert.ThrowsAsync<RelayApiException>(() => ClientRig.ReadUntilAsync(rig.Rt, _ => true, new EventFilter { Types = ["cdp.nothing"] }));
        Assert.Equal(HttpStatusCode.BadRequest, badFilter.StatusCode);
        Assert.Equal("invalid_query", badFilter.Code);
    }

    [Fact(Timeout = 30_000)]
    public async Task AddBctrlRelayClient_registers_a_typed_client_of_the_http_client_factory()
    {
        await using var rig = await ClientRig.StartAsync();
        var services = new ServiceCollection();
        var requests = 0;
        services.AddBctrlRelayClient(o =>
        {
            o.BaseAddress = rig.Relay.BaseUrl;
            o.ApiKey = RelayServer.ControlKey;
        }).AddHttpMessageHandler(() => new CountingHandler(() => Interlocked.Increment(ref requests)));
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<RelayClient>();
        var created = await client.Runtimes[ClientRig.RuntimeId].Connections.CreateAsync();
        Assert.Equal(created.Id, (await client.Runtimes[ClientRig.RuntimeId].Connections.GetAsync(created.Id)).Id);
        Assert.Equal(2, requests);
        Assert.NotSame(client, provider.GetRequiredService<RelayClient>());
    }

    [Fact(Timeout = 30_000)]
    public async Task AddBctrlRelayClient_without_a_base_address_fails_when_the_client_is_resolved()
    {
        var services = new ServiceCollection();
        services.AddBctrlRelayClient(o => o.ApiKey = "k");
        await using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredService<RelayClient>());
        Assert.Contains("BaseAddress", error.Message, StringComparison.Ordinal);
    }

    private sealed class CountingHandler(Action count) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            count();
            return base.SendAsync(request, cancellationToken);
        }
    }
}
