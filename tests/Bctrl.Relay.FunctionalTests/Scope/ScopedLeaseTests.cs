using System.Net.Http.Json;
using System.Text.Json;
using Bctrl.Relay.FunctionalTests.Control;

namespace Bctrl.Relay.FunctionalTests.Scope;

/// <summary>
/// docs/scope.md: a lease created with <c>"scope": {"target": ID}</c> attaches to that page's socket only, sees only that
/// page in discovery, and is refused everything else with 403 <c>scope_forbidden</c> before any upgrade, and before the
/// runtime is asked anything.
/// </summary>
public sealed class ScopedLeaseTests
{
    private const string Mine = CountingRuntime.PageId1;
    private const string Other = CountingRuntime.PageId2;

    [Fact(Timeout = 30_000)]
    public async Task Creation_answers_the_scope_and_the_page_url_and_get_and_list_show_it()
    {
        await using var rig = await AttachRig.StartAsync();
        var (id, url, created) = await CreateScopedAsync(rig, Mine);

        Assert.Equal(Mine, created.GetProperty("scope").GetProperty("target").GetString());
        Assert.EndsWith($"/devtools/page/{Mine}", url.AbsolutePath, StringComparison.Ordinal);

        using var one = JsonDocument.Parse(await rig.Relay.Http.GetStringAsync($"v1/runtimes/{AttachRig.RuntimeId}/connections/{id}"));
        Assert.Equal(Mine, one.RootElement.GetProperty("scope").GetProperty("target").GetString());
        Assert.False(one.RootElement.TryGetProperty("endpoint", out _), "the URL is shown once, at creation");

        var (unscopedId, _) = await rig.CreateAsync();
        using var list = JsonDocument.Parse(await rig.Relay.Http.GetStringAsync($"v1/runtimes/{AttachRig.RuntimeId}/connections"));
        var entries = list.RootElement.GetProperty("data").EnumerateArray().ToDictionary(e => e.GetProperty("id").GetString()!);
        Assert.Equal(Mine, entries[id].GetProperty("scope").GetProperty("target").GetString());
        Assert.False(entries[unscopedId].TryGetProperty("scope", out _), "an unscoped lease has no scope field");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("""{"scope":{}}""")]
    [InlineData("""{"scope":{"target":""}}""")]
    [InlineData("""{"scope":{"target":"a/b"}}""")]
    [InlineData("""{"scope":{"target":"a b"}}""")]
    [InlineData("""{"scope":{"target":".."}}""")]
    [InlineData("""{"scope":{"target":"ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt"}}""")]
    public async Task A_bad_scope_is_400_invalid_scope(string body)
    {
        await using var rig = await AttachRig.StartAsync();

        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await rig.Relay.Http.PostAsync($"v1/runtimes/{AttachRig.RuntimeId}/connections", content);

        await ApiAssert.ErrorAsync(response, 400, "invalid_scope");
        using var list = JsonDocument.Parse(await rig.Relay.Http.GetStringAsync($"v1/runtimes/{AttachRig.RuntimeId}/connections"));
        Assert.Empty(list.RootElement.GetProperty("data").EnumerateArray());
    }

    [Fact(Timeout = 30_000)]
    public async Task A_null_scope_is_a_lease_of_the_whole_browser()
    {
        await using var rig = await AttachRig.StartAsync();

        using var response = await rig.Relay.Http.PostAsJsonAsync($"v1/runtimes/{AttachRig.RuntimeId}/connections", new { scope = (object?)null });
        using var created = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(201, (int)response.StatusCode);
        Assert.False(created.RootElement.TryGetProperty("scope", out _));
        using var attach = await rig.AttachAsync(AttachRig.TokenOf(new Uri(created.RootElement.GetProperty("endpoint").GetProperty("url").GetString()!)));
        Assert.Equal(101, attach.Status);
    }

    [Fact(Timeout = 30_000)]
    public async Task Every_socket_but_its_page_is_refused_before_any_upgrade_and_its_page_attaches()
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, url, _) = await CreateScopedAsync(rig, Mine);
        var token = TokenOf(url);

        foreach (var suffix in (string[])["", $"/devtools/browser/{CountingRuntime.BrowserId}", $"/devtools/page/{Other}", $"/devtools/page/{Mine}x", "/devtools/page/B5D1E0C3"])
        {
            using var refused = await rig.AttachAsync(token, suffix);
            var body = ApiAssert.Error(refused, 403, "scope_forbidden");
            Assert.DoesNotContain(token, body, StringComparison.Ordinal);
        }

        // The scope is looked at before the handshake: a plain GET of the browser socket is 403 too, not 426.
        using (var plain = await rig.Relay.Http.GetAsync($"cdp/{token}"))
        {
            await ApiAssert.ErrorAsync(plain, 403, "scope_forbidden");
        }

        await rig.AssertNoUpstreamAsync();

        using var attached = await rig.AttachAsync(token, $"/devtools/page/{Mine}");
        Assert.Equal(101, attached.Status);
        Assert.Equal(1, rig.Runtime.Upgrades);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_attach_record_names_the_scope()
    {
        await using var rig = await AttachRig.StartAsync();
        var (id, url, _) = await CreateScopedAsync(rig, Mine);

        using var attached = await rig.AttachAsync(TokenOf(url), $"/devtools/page/{Mine}");
        Assert.Equal(101, attached.Status);

        JsonElement record = default;
        for (var tries = 0; tries < 100; tries++)
        {
            using var attaches = JsonDocument.Parse(await rig.Relay.Http.GetStringAsync($"v1/runtimes/{AttachRig.RuntimeId}/connections/{id}/attaches"));
            if (attaches.RootElement.GetProperty("data").EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } first)
            {
                record = first.Clone();
                break;
            }

            await Task.Delay(50);
        }

        Assert.Equal(JsonValueKind.Object, record.ValueKind);
        Assert.Equal(Mine, record.GetProperty("scope").GetProperty("target").GetString());
    }

    [Theory(Timeout = 30_000)]
    [InlineData("json/list")]
    [InlineData("json/list/")]
    [InlineData("json")]
    public async Task The_list_holds_its_page_only(string document)
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, url, _) = await CreateScopedAsync(rig, Mine);
        var token = TokenOf(url);

        using var list = JsonDocument.Parse(await rig.Relay.Http.GetStringAsync($"cdp/{token}/{document}"));

        var page = Assert.Single(list.RootElement.EnumerateArray());
        Assert.Equal(Mine, page.GetProperty("id").GetString());
        Assert.Equal($"ws://127.0.0.1:{rig.Relay.BaseUrl.Port}/cdp/{token}/devtools/page/{Mine}", page.GetProperty("webSocketDebuggerUrl").GetString());
        Assert.Equal("Example Domain", page.GetProperty("title").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task A_scope_on_a_target_the_runtime_does_not_have_lists_nothing()
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, url, _) = await CreateScopedAsync(rig, "GONE");

        using var list = JsonDocument.Parse(await rig.Relay.Http.GetStringAsync($"cdp/{TokenOf(url)}/json/list"));

        Assert.Empty(list.RootElement.EnumerateArray());
    }

    [Fact(Timeout = 30_000)]
    public async Task Version_new_and_commands_on_other_targets_are_403_and_never_reach_the_runtime()
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, url, _) = await CreateScopedAsync(rig, Mine);
        var token = TokenOf(url);

        var refused = new (HttpMethod Method, string Path)[]
        {
            (HttpMethod.Get, "json/version"),
            (HttpMethod.Get, "json/version/"),
            (HttpMethod.Put, "json/new?https://example.com/"),
            (HttpMethod.Put, "json/new"),
            (HttpMethod.Get, $"json/activate/{Other}"),
            (HttpMethod.Put, $"json/activate/{Other}"),
            (HttpMethod.Get, $"json/close/{Other}"),
            (HttpMethod.Get, $"json/close/{Mine}x"),
        };
        foreach (var (method, path) in refused)
        {
            using var request = new HttpRequestMessage(method, $"cdp/{token}/{path}");
            using var response = await rig.Relay.Http.SendAsync(request);
            await ApiAssert.ErrorAsync(response, 403, "scope_forbidden");
        }

        Assert.Empty(rig.Runtime.Requests);

        using var activate = await rig.Relay.Http.GetAsync($"cdp/{token}/json/activate/{Mine}");
        Assert.Equal(200, (int)activate.StatusCode);
        Assert.Equal("Target activated", await activate.Content.ReadAsStringAsync());
        using var close = await rig.Relay.Http.GetAsync($"cdp/{token}/json/close/{Mine}");
        Assert.Equal("Target is closing", await close.Content.ReadAsStringAsync());
        using var protocol = await rig.Relay.Http.GetAsync($"cdp/{token}/json/protocol");
        Assert.Equal(CountingRuntime.ProtocolDocument, await protocol.Content.ReadAsStringAsync());
        Assert.Equal(3, rig.Runtime.Requests.Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_bad_lease_is_still_401_before_the_scope_is_looked_at()
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, url, _) = await CreateScopedAsync(rig, Mine);
        var token = TokenOf(url);
        var forged = token[..^1] + (token[^1] == 'A' ? 'B' : 'A');

        using var attach = await rig.AttachAsync(forged, $"/devtools/page/{Mine}");
        ApiAssert.Error(attach, 401, "invalid_lease");
        using var version = await rig.Relay.Http.GetAsync($"cdp/{forged}/json/version");
        await ApiAssert.ErrorAsync(version, 401, "invalid_lease");
    }

    private static async Task<(string Id, Uri Url, JsonElement Created)> CreateScopedAsync(AttachRig rig, string target)
    {
        using var response = await rig.Relay.Http.PostAsJsonAsync(
            $"v1/runtimes/{AttachRig.RuntimeId}/connections", new { protocol = "cdp", scope = new { target } });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(201 == (int)response.StatusCode, body);
        using var json = JsonDocument.Parse(body);
        var created = json.RootElement.Clone();
        return (created.GetProperty("id").GetString()!, new Uri(created.GetProperty("endpoint").GetProperty("url").GetString()!), created);
    }

    /// <summary>The token in a scoped lease's URL, <c>ws://host/cdp/TOKEN/devtools/page/ID</c>.</summary>
    private static string TokenOf(Uri url)
    {
        var segments = url.AbsolutePath.Split('/');
        Assert.Equal("cdp", segments[1]);
        return segments[2];
    }
}
