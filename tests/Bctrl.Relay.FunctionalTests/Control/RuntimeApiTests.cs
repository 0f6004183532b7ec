using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary>docs/design.md §2: <c>PUT/GET/DELETE /v1/runtimes/{runtimeId}</c> and <c>GET /v1/runtimes</c>.</summary>
public sealed class RuntimeApiTests
{
    [Fact(Timeout = 30_000)]
    public async Task Put_creates_with_201_then_replaces_with_200()
    {
        await using var relay = await RelayServer.StartAsync();
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        using var created = await relay.Http.PutAsJsonAsync("v1/runtimes/chrome-1", new { cdpUrl = "ws://10.0.0.7:9222/devtools/browser/abc" });
        Assert.Equal(201, (int)created.StatusCode);
        using var first = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        Assert.Equal(["cdpUrl", "createdAt", "id"], first.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("chrome-1", first.RootElement.GetProperty("id").GetString());
        Assert.Equal("ws://10.0.0.7:9222/devtools/browser/abc", first.RootElement.GetProperty("cdpUrl").GetString());
        var createdAt = first.RootElement.GetProperty("createdAt").GetDateTimeOffset();
        Assert.InRange(createdAt, before, DateTimeOffset.UtcNow.AddSeconds(1));

        using var replaced = await relay.Http.PutAsJsonAsync("v1/runtimes/chrome-1", new { cdpUrl = "http://10.0.0.8:9222" });
        Assert.Equal(200, (int)replaced.StatusCode);
        using var second = JsonDocument.Parse(await replaced.Content.ReadAsStringAsync());
        Assert.Equal("chrome-1", second.RootElement.GetProperty("id").GetString());
        Assert.StartsWith("http://10.0.0.8:9222", second.RootElement.GetProperty("cdpUrl").GetString(), StringComparison.Ordinal);
        Assert.Equal(createdAt, second.RootElement.GetProperty("createdAt").GetDateTimeOffset());

        using var fetched = await relay.Http.GetFromJsonAsync<JsonDocument>("v1/runtimes/chrome-1");
        Assert.StartsWith("http://10.0.0.8:9222", fetched!.RootElement.GetProperty("cdpUrl").GetString(), StringComparison.Ordinal);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("bad%20id")]
    [InlineData("a%2Fb")]
    [InlineData("star*")]
    [InlineData("caf%C3%A9")]
    [InlineData("a:b")]
    [InlineData("x1234567890123456789012345678901234567890123456789012345678901234")] // 65 characters
    public async Task Put_with_an_invalid_runtime_id_is_400_invalid_runtime_id(string escapedId)
    {
        await using var relay = await RelayServer.StartAsync();
        using var response = await relay.Http.PutAsJsonAsync($"v1/runtimes/{escapedId}", new { cdpUrl = "ws://127.0.0.1:9222/devtools/browser/x" });
        await ApiAssert.ErrorAsync(response, 400, "invalid_runtime_id");
        using var list = await relay.Http.GetFromJsonAsync<JsonDocument>("v1/runtimes");
        Assert.Empty(list!.RootElement.GetProperty("data").EnumerateArray());
    }

    [Fact(Timeout = 30_000)]
    public async Task Put_accepts_the_longest_runtime_id()
    {
        await using var relay = await RelayServer.StartAsync();
        var id = "A._-" + new string('z', 60);
        using var response = await relay.Http.PutAsJsonAsync($"v1/runtimes/{id}", new { cdpUrl = "ws://127.0.0.1:9222/devtools/browser/x" });
        Assert.Equal(201, (int)response.StatusCode);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("""{"cdpUrl":"ftp://127.0.0.1:9222/devtools/browser/x"}""")]
    [InlineData("""{"cdpUrl":"https://user:secret@127.0.0.1:9222"}""")]
    [InlineData("""{"cdpUrl":"/devtools/browser/x"}""")]
    [InlineData("""{"cdpUrl":"devtools/browser/x"}""")]
    [InlineData("""{"cdpUrl":"127.0.0.1:9222"}""")]
    [InlineData("""{"cdpUrl":""}""")]
    [InlineData("""{"cdpUrl":null}""")]
    [InlineData("""{"cdpUrl":"ws://user:secret@127.0.0.1:9222/devtools/browser/x"}""")]
    [InlineData("""{}""")]
    [InlineData("""{"cdp_url":"ws://127.0.0.1:9222/devtools/browser/x"}""")]
    public async Task Put_with_an_invalid_cdpUrl_is_400_invalid_cdp_url(string body)
    {
        await using var relay = await RelayServer.StartAsync();
        using var response = await relay.Http.PutAsync("v1/runtimes/r1", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await ApiAssert.ErrorAsync(response, 400, "invalid_cdp_url");
        Assert.DoesNotContain("secret", text, StringComparison.Ordinal);
        using var missing = await relay.Http.GetAsync("v1/runtimes/r1");
        await ApiAssert.ErrorAsync(missing, 404, "runtime_not_found");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("{")]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("\"ws://127.0.0.1:9222/devtools/browser/x\"")]
    [InlineData("""{"cdpUrl":5}""")]
    [InlineData("""{"cdpUrl":"ws://127.0.0.1:9222/devtools/browser/x",}""")]
    [InlineData("cdpUrl=ws://127.0.0.1:9222")]
    public async Task Put_with_malformed_json_is_400_invalid_json(string body)
    {
        await using var relay = await RelayServer.StartAsync();
        using var response = await relay.Http.PutAsync("v1/runtimes/r1", new StringContent(body, Encoding.UTF8, "application/json"));
        await ApiAssert.ErrorAsync(response, 400, "invalid_json");
    }

    [Fact(Timeout = 30_000)]
    public async Task Get_lists_every_runtime_and_gets_one()
    {
        await using var relay = await RelayServer.StartAsync();
        using (var empty = await relay.Http.GetFromJsonAsync<JsonDocument>("v1/runtimes"))
        {
            Assert.Empty(empty!.RootElement.GetProperty("data").EnumerateArray());
        }

        await relay.PutRuntimeAsync("beta", new Uri("ws://127.0.0.1:9223/devtools/browser/b"));
        await relay.PutRuntimeAsync("alpha", new Uri("http://127.0.0.1:9222"));

        using var list = await relay.Http.GetFromJsonAsync<JsonDocument>("v1/runtimes");
        var data = list!.RootElement.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(["alpha", "beta"], data.Select(r => r.GetProperty("id").GetString()).Order(StringComparer.Ordinal));
        Assert.All(data, r => Assert.Equal(["cdpUrl", "createdAt", "id"], r.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)));

        using var one = await relay.Http.GetAsync("v1/runtimes/beta");
        Assert.Equal(200, (int)one.StatusCode);
        using var beta = JsonDocument.Parse(await one.Content.ReadAsStringAsync());
        Assert.Equal("beta", beta.RootElement.GetProperty("id").GetString());
        Assert.Equal("ws://127.0.0.1:9223/devtools/browser/b", beta.RootElement.GetProperty("cdpUrl").GetString());

        using var unknown = await relay.Http.GetAsync("v1/runtimes/gamma");
        await ApiAssert.ErrorAsync(unknown, 404, "runtime_not_found");
    }

    [Fact(Timeout = 30_000)]
    public async Task Delete_is_204_then_404()
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync("r1", new Uri("ws://127.0.0.1:9222/devtools/browser/x"));

        using var deleted = await relay.Http.DeleteAsync("v1/runtimes/r1");
        Assert.Equal(204, (int)deleted.StatusCode);
        Assert.Empty(await deleted.Content.ReadAsByteArrayAsync());

        using var again = await relay.Http.DeleteAsync("v1/runtimes/r1");
        await ApiAssert.ErrorAsync(again, 404, "runtime_not_found");
        using var gone = await relay.Http.GetAsync("v1/runtimes/r1");
        await ApiAssert.ErrorAsync(gone, 404, "runtime_not_found");
        using var create = await relay.Http.PostAsJsonAsync("v1/runtimes/r1/connections", new { protocol = "cdp" });
        await ApiAssert.ErrorAsync(create, 404, "runtime_not_found");
    }
}
