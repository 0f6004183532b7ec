using System.Globalization;
using System.Text.Json;
using Bctrl.Relay.FunctionalTests.Control;

namespace Bctrl.Relay.FunctionalTests.Discovery;

/// <summary>
/// docs/design.md §2: <c>GET /cdp/{token}/json/version</c>, <c>/json/list</c>, <c>/json</c> serve the runtime's documents with
/// every <c>webSocketDebuggerUrl</c> and the <c>ws=</c> part of <c>devtoolsFrontendUrl</c> going through the relay
/// under the same lease; the runtime's address appears nowhere.
/// </summary>
public sealed class DiscoveryTests
{
    [Theory(Timeout = 30_000)]
    [InlineData("json/version", false)]
    [InlineData("json/version/", false)]
    [InlineData("json/version", true)]
    [InlineData("json/version/", true)]
    public async Task Version_is_rewritten_to_the_relay(string document, bool registerAsHttp)
    {
        await using var rig = await AttachRig.StartAsync(registerAsHttp: registerAsHttp);
        var (_, token) = await rig.CreateAsync();
        var lease = $"ws://127.0.0.1:{rig.Relay.BaseUrl.Port}/cdp/{token}";

        using var response = await rig.Relay.Http.GetAsync($"cdp/{token}/{document}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal("HeadlessChrome/131.0.6778.85", root.GetProperty("Browser").GetString());
        Assert.Equal("1.3", root.GetProperty("Protocol-Version").GetString());
        Assert.Equal($"{lease}/devtools/browser/{CountingRuntime.BrowserId}", root.GetProperty("webSocketDebuggerUrl").GetString());
        AssertRuntimeAddressAbsent(body, token, rig.Runtime.Port);
        Assert.Contains(rig.Runtime.Requests, r => r.StartsWith("GET /json/version", StringComparison.Ordinal));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("json/list")]
    [InlineData("json/list/")]
    [InlineData("json")]
    [InlineData("json/")]
    public async Task List_is_rewritten_to_the_relay(string document)
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, token) = await rig.CreateAsync();
        var relayAuthority = $"127.0.0.1:{rig.Relay.BaseUrl.Port}";

        using var response = await rig.Relay.Http.GetAsync($"cdp/{token}/{document}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        var pages = json.RootElement.EnumerateArray().ToArray();
        Assert.Equal([CountingRuntime.PageId1, CountingRuntime.PageId2], pages.Select(p => p.GetProperty("id").GetString()));
        Assert.Equal(["Example Domain", "about:blank"], pages.Select(p => p.GetProperty("title").GetString()));
        Assert.Equal(["https://example.com/", "about:blank"], pages.Select(p => p.GetProperty("url").GetString()));
        foreach (var page in pages)
        {
            var id = page.GetProperty("id").GetString();
            Assert.Equal($"ws://{relayAuthority}/cdp/{token}/devtools/page/{id}", page.GetProperty("webSocketDebuggerUrl").GetString());
            Assert.EndsWith($"?ws={relayAuthority}/cdp/{token}/devtools/page/{id}", page.GetProperty("devtoolsFrontendUrl").GetString(), StringComparison.Ordinal);
        }

        Assert.StartsWith(
            "https://chrome-devtools-frontend.appspot.com/serve_rev/@3d81e41b6f3ac8bcae63b32e8145c9eb0cd60a2d/inspector.html?ws=",
            pages[0].GetProperty("devtoolsFrontendUrl").GetString(),
            StringComparison.Ordinal);
        Assert.StartsWith("/devtools/inspector.html?ws=", pages[1].GetProperty("devtoolsFrontendUrl").GetString(), StringComparison.Ordinal);
        AssertRuntimeAddressAbsent(body, token, rig.Runtime.Port);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_rewritten_urls_use_PublicBaseUrl()
    {
        await using var rig = await AttachRig.StartAsync(new Dictionary<string, string?> { ["Relay:PublicBaseUrl"] = "ws://relay.example:9999" });
        var (_, token) = await rig.CreateAsync();
        using var version = JsonDocument.Parse(await rig.Relay.Http.GetStringAsync($"cdp/{token}/json/version"));
        Assert.Equal(
            $"ws://relay.example:9999/cdp/{token}/devtools/browser/{CountingRuntime.BrowserId}",
            version.RootElement.GetProperty("webSocketDebuggerUrl").GetString());
        var listBody = await rig.Relay.Http.GetStringAsync($"cdp/{token}/json/list");
        using var list = JsonDocument.Parse(listBody);
        var page = list.RootElement[0];
        Assert.Equal($"ws://relay.example:9999/cdp/{token}/devtools/page/{CountingRuntime.PageId1}", page.GetProperty("webSocketDebuggerUrl").GetString());
        Assert.EndsWith($"?ws=relay.example:9999/cdp/{token}/devtools/page/{CountingRuntime.PageId1}", page.GetProperty("devtoolsFrontendUrl").GetString(), StringComparison.Ordinal);
        AssertRuntimeAddressAbsent(listBody, token, rig.Runtime.Port);
    }

    [Fact(Timeout = 30_000)]
    public async Task Protocol_passes_through()
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, token) = await rig.CreateAsync();
        using var response = await rig.Relay.Http.GetAsync($"cdp/{token}/json/protocol");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(CountingRuntime.ProtocolDocument, await response.Content.ReadAsStringAsync());
    }

    [Theory(Timeout = 30_000)]
    [InlineData("json/version")]
    [InlineData("json/list")]
    [InlineData("json")]
    [InlineData("json/protocol")]
    public async Task A_bad_token_is_401_and_the_runtime_is_not_asked(string document)
    {
        await using var rig = await AttachRig.StartAsync();
        var (id, token) = await rig.CreateAsync();
        var chars = token.ToCharArray();
        chars[^1] = chars[^1] == 'A' ? 'B' : 'A';

        foreach (var bad in (string[])["garbage", new string(chars)])
        {
            using var response = await rig.Relay.Http.GetAsync($"cdp/{bad}/{document}");
            var body = await ApiAssert.ErrorAsync(response, 401, "invalid_lease");
            Assert.DoesNotContain(bad, body, StringComparison.Ordinal);
        }

        await rig.Relay.DeleteConnectionAsync(AttachRig.RuntimeId, id);
        using (var revoked = await rig.Relay.Http.GetAsync($"cdp/{token}/{document}"))
        {
            await ApiAssert.ErrorAsync(revoked, 401, "lease_revoked");
        }

        await rig.AssertNoUpstreamAsync();
    }

    [Fact(Timeout = 30_000)]
    public async Task An_expired_lease_is_401_lease_expired()
    {
        await using var rig = await AttachRig.StartAsync(new Dictionary<string, string?> { ["Relay:Leases:ClockSkew"] = "00:00:00" });
        var (_, token) = await rig.CreateAsync(ttlSeconds: 1);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        using var response = await rig.Relay.Http.GetAsync($"cdp/{token}/json/version");
        await ApiAssert.ErrorAsync(response, 401, "lease_expired");
        await rig.AssertNoUpstreamAsync();
    }

    [Fact(Timeout = 30_000)]
    public async Task An_unreachable_runtime_is_502_without_its_address()
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, token) = await rig.CreateAsync();
        var port = rig.Runtime.Port;
        await rig.Runtime.DisposeAsync();

        using var response = await rig.Relay.Http.GetAsync($"cdp/{token}/json/version");
        var body = await ApiAssert.ErrorAsync(response, 502, "runtime_unreachable");
        AssertRuntimeAddressAbsent(body, token, port);
        Assert.DoesNotContain(token, body, StringComparison.Ordinal);
    }

    /// <summary>
    /// A runtime that dies halfway through its answer is the runtime's failure (502 <c>runtime_unreachable</c>), not
    /// the relay's (500 <c>relay_fault</c>).
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task A_runtime_that_breaks_off_its_answer_is_502_runtime_unreachable()
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, token) = await rig.CreateAsync();
        rig.Runtime.TruncateDiscovery = true;
        using var response = await rig.Relay.Http.GetAsync($"cdp/{token}/json/version");
        var body = await ApiAssert.ErrorAsync(response, 502, "runtime_unreachable");
        AssertRuntimeAddressAbsent(body, token, rig.Runtime.Port);
    }

    /// <summary>The runtime's port, in any form, appears nowhere once the lease's token is taken out.</summary>
    private static void AssertRuntimeAddressAbsent(string body, string token, int runtimePort)
    {
        var withoutToken = body.Replace(token, "<token>", StringComparison.Ordinal);
        Assert.DoesNotContain(runtimePort.ToString(CultureInfo.InvariantCulture), withoutToken, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1:" + runtimePort.ToString(CultureInfo.InvariantCulture), body, StringComparison.Ordinal);
    }
}
