using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary>docs/design.md §2: <c>POST/GET/DELETE /v1/runtimes/{runtimeId}/connections[/{connectionId}]</c>.</summary>
public sealed class ConnectionApiTests
{
    private static readonly Uri RuntimeUrl = new("ws://127.0.0.1:9/devtools/browser/x");

    [Fact(Timeout = 30_000)]
    public async Task Post_is_201_with_the_endpoint_built_from_PublicBaseUrl_not_the_Host_header()
    {
        await using var relay = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:PublicBaseUrl"] = "ws://relay.example:9999" });
        await relay.PutRuntimeAsync("r1", RuntimeUrl);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/runtimes/r1/connections")
        {
            Content = JsonContent.Create(new { protocol = "cdp", ttlSeconds = 60 }),
        };
        request.Headers.Host = "evil.example:6666";
        using var response = await relay.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(201, (int)response.StatusCode);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString() ?? string.Empty, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal(
            ["createdAt", "endpoint", "expiresAt", "id", "protocol", "runtimeId"],
            root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.True(Guid.TryParse(root.GetProperty("id").GetString(), out _));
        Assert.Equal("r1", root.GetProperty("runtimeId").GetString());
        Assert.Equal("cdp", root.GetProperty("protocol").GetString());
        var createdAt = root.GetProperty("createdAt").GetDateTimeOffset();
        var expiresAt = root.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.InRange(createdAt, before, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(60), expiresAt - createdAt);

        Assert.Equal(["url"], root.GetProperty("endpoint").EnumerateObject().Select(p => p.Name));
        var url = root.GetProperty("endpoint").GetProperty("url").GetString()!;
        Assert.StartsWith("ws://relay.example:9999/cdp/", url, StringComparison.Ordinal);
        var token = url["ws://relay.example:9999/cdp/".Length..];
        Assert.InRange(token.Length, 40, 199);
        Assert.Matches("^[A-Za-z0-9._-]+$", token);
        Assert.DoesNotContain("evil.example", body, StringComparison.Ordinal);
        Assert.DoesNotContain(relay.BaseUrl.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), url, StringComparison.Ordinal);

        // Shown once: reading the connection back never shows the URL or the token.
        using var fetched = await relay.Http.GetAsync($"v1/runtimes/r1/connections/{root.GetProperty("id").GetString()}");
        var again = await fetched.Content.ReadAsStringAsync();
        Assert.DoesNotContain(token, again, StringComparison.Ordinal);
        Assert.DoesNotContain("url", again, StringComparison.OrdinalIgnoreCase);
    }

    [Fact(Timeout = 30_000)]
    public async Task Without_PublicBaseUrl_the_endpoint_is_the_listen_address_never_the_Host_header()
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync("r1", RuntimeUrl);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/runtimes/r1/connections") { Content = JsonContent.Create(new { protocol = "cdp" }) };
        request.Headers.Host = "evil.example:6666";
        using var response = await relay.Http.SendAsync(request);
        Assert.Equal(201, (int)response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var url = json.RootElement.GetProperty("endpoint").GetProperty("url").GetString()!;
        Assert.StartsWith($"ws://127.0.0.1:{relay.BaseUrl.Port}/cdp/", url, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task Post_without_a_body_or_a_ttl_takes_the_default_ttl_of_five_minutes()
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync("r1", RuntimeUrl);
        foreach (var content in new HttpContent?[] { null, JsonContent.Create(new { protocol = "cdp" }), new StringContent("{}", Encoding.UTF8, "application/json") })
        {
            using var response = await relay.Http.PostAsync("v1/runtimes/r1/connections", content);
            Assert.Equal(201, (int)response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var lifetime = json.RootElement.GetProperty("expiresAt").GetDateTimeOffset() - json.RootElement.GetProperty("createdAt").GetDateTimeOffset();
            Assert.Equal(TimeSpan.FromMinutes(5), lifetime);
            content?.Dispose();
        }
    }

    [Theory(Timeout = 30_000)]
    [InlineData("webdriver")]
    [InlineData("CDP")]
    [InlineData("")]
    public async Task Post_with_another_protocol_is_400_unsupported_protocol(string protocol)
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync("r1", RuntimeUrl);
        using var response = await relay.Http.PostAsJsonAsync("v1/runtimes/r1/connections", new { protocol });
        await ApiAssert.ErrorAsync(response, 400, "unsupported_protocol");
        await AssertNoConnectionsAsync(relay, "r1");
    }

    [Theory(Timeout = 30_000)]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(-300L)]
    [InlineData(3601L)]
    [InlineData(86_400L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public async Task Post_with_a_ttl_out_of_range_is_400_invalid_ttl(long ttlSeconds)
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync("r1", RuntimeUrl);
        using var response = await relay.Http.PostAsJsonAsync("v1/runtimes/r1/connections", new { protocol = "cdp", ttlSeconds });
        await ApiAssert.ErrorAsync(response, 400, "invalid_ttl");
        await AssertNoConnectionsAsync(relay, "r1");
    }

    [Fact(Timeout = 30_000)]
    public async Task Post_accepts_a_ttl_of_exactly_MaxTtl_and_refuses_one_more_second_of_a_configured_MaxTtl()
    {
        await using var relay = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:Connections:DefaultTtl"] = "00:01:00",
            ["Relay:Connections:MaxTtl"] = "00:02:00",
        });
        await relay.PutRuntimeAsync("r1", RuntimeUrl);
        using (var max = await relay.Http.PostAsJsonAsync("v1/runtimes/r1/connections", new { protocol = "cdp", ttlSeconds = 120 }))
        {
            Assert.Equal(201, (int)max.StatusCode);
        }

        using var over = await relay.Http.PostAsJsonAsync("v1/runtimes/r1/connections", new { protocol = "cdp", ttlSeconds = 121 });
        await ApiAssert.ErrorAsync(over, 400, "invalid_ttl");
        using var defaulted = await relay.Http.PostAsJsonAsync("v1/runtimes/r1/connections", new { protocol = "cdp" });
        using var json = JsonDocument.Parse(await defaulted.Content.ReadAsStringAsync());
        Assert.Equal(
            TimeSpan.FromMinutes(1),
            json.RootElement.GetProperty("expiresAt").GetDateTimeOffset() - json.RootElement.GetProperty("createdAt").GetDateTimeOffset());
    }

    [Theory(Timeout = 30_000)]
    [InlineData("{")]
    [InlineData("null")]
    [InlineData("""{"ttlSeconds":"soon"}""")]
    [InlineData("""{"ttlSeconds":1.5}""")]
    public async Task Post_with_malformed_json_is_400_invalid_json(string body)
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync("r1", RuntimeUrl);
        using var response = await relay.Http.PostAsync("v1/runtimes/r1/connections", new StringContent(body, Encoding.UTF8, "application/json"));
        await ApiAssert.ErrorAsync(response, 400, "invalid_json");
    }

    [Fact(Timeout = 30_000)]
    public async Task Post_for_an_unknown_runtime_is_404_runtime_not_found()
    {
        await using var relay = await RelayServer.StartAsync();
        using var response = await relay.Http.PostAsJsonAsync("v1/runtimes/nobody/connections", new { protocol = "cdp", ttlSeconds = 60 });
        await ApiAssert.ErrorAsync(response, 404, "runtime_not_found");
        using var list = await relay.Http.GetAsync("v1/runtimes/nobody/connections");
        await ApiAssert.ErrorAsync(list, 404, "runtime_not_found");
    }

    [Fact(Timeout = 30_000)]
    public async Task Get_lists_connections_newest_first_without_url_or_token()
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync("r1", RuntimeUrl);
        await relay.PutRuntimeAsync("r2", RuntimeUrl);
        var created = new List<(string Id, Uri Url)>();
        for (var i = 0; i < 4; i++)
        {
            created.Add(await relay.CreateConnectionAsync("r1", ttlSeconds: 60 + i));
            await Task.Delay(15);
        }

        var other = await relay.CreateConnectionAsync("r2");

        using var response = await relay.Http.GetAsync("v1/runtimes/r1/connections");
        Assert.Equal(200, (int)response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        Assert.Equal(["data"], json.RootElement.EnumerateObject().Select(p => p.Name));
        var data = json.RootElement.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(created.Select(c => c.Id).Reverse(), data.Select(c => c.GetProperty("id").GetString()));
        Assert.DoesNotContain(other.Id, body, StringComparison.Ordinal);
        foreach (var connection in data)
        {
            Assert.Equal(
                ["attaches", "createdAt", "expiresAt", "id", "protocol", "runtimeId", "state"],
                connection.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal("active", connection.GetProperty("state").GetString());
        }

        Assert.DoesNotContain("endpoint", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("/cdp/", body, StringComparison.Ordinal);
        foreach (var (_, url) in created)
        {
            var token = url.AbsolutePath["/cdp/".Length..];
            Assert.DoesNotContain(token, body, StringComparison.Ordinal);
            Assert.DoesNotContain(token.Split('.')[^1], body, StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Get_shows_an_active_then_deleted_connection_with_its_attach_counts()
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync("r1", RuntimeUrl);
        var (id, _) = await relay.CreateConnectionAsync("r1", ttlSeconds: 120);

        using (var active = await relay.Http.GetFromJsonAsync<JsonDocument>($"v1/runtimes/r1/connections/{id}"))
        {
            var root = active!.RootElement;
            Assert.Equal(id, root.GetProperty("id").GetString());
            Assert.Equal("r1", root.GetProperty("runtimeId").GetString());
            Assert.Equal("cdp", root.GetProperty("protocol").GetString());
            Assert.Equal("active", root.GetProperty("state").GetString());
            Assert.Equal(TimeSpan.FromSeconds(120), root.GetProperty("expiresAt").GetDateTimeOffset() - root.GetProperty("createdAt").GetDateTimeOffset());
            var attaches = root.GetProperty("attaches");
            Assert.Equal(["live", "total"], attaches.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal(0, attaches.GetProperty("live").GetInt64());
            Assert.Equal(0, attaches.GetProperty("total").GetInt64());
        }

        await relay.DeleteConnectionAsync("r1", id);
        using var deleted = await relay.Http.GetFromJsonAsync<JsonDocument>($"v1/runtimes/r1/connections/{id}");
        Assert.Equal("deleted", deleted!.RootElement.GetProperty("state").GetString());
        using var list = await relay.Http.GetFromJsonAsync<JsonDocument>("v1/runtimes/r1/connections");
        Assert.Equal("deleted", Assert.Single(list!.RootElement.GetProperty("data").EnumerateArray()).GetProperty("state").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task Get_shows_an_expired_connection_once_its_ttl_has_passed()
    {
        await using var relay = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:Leases:ClockSkew"] = "00:00:00" });
        await relay.PutRuntimeAsync("r1", RuntimeUrl);
        var (id, _) = await relay.CreateConnectionAsync("r1", ttlSeconds: 1);
        var (keeper, _) = await relay.CreateConnectionAsync("r1", ttlSeconds: 600);
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        using var expired = await relay.Http.GetFromJsonAsync<JsonDocument>($"v1/runtimes/r1/connections/{id}");
        Assert.Equal("expired", expired!.RootElement.GetProperty("state").GetString());
        using var active = await relay.Http.GetFromJsonAsync<JsonDocument>($"v1/runtimes/r1/connections/{keeper}");
        Assert.Equal("active", active!.RootElement.GetProperty("state").GetString());

        // Deleting an expired connection still works, and then it says so.
        await relay.DeleteConnectionAsync("r1", id);
        using var deleted = await relay.Http.GetFromJsonAsync<JsonDocument>($"v1/runtimes/r1/connections/{id}");
        Assert.Equal("deleted", deleted!.RootElement.GetProperty("state").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task Delete_is_204_and_idempotent_with_or_without_terminate()
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync("r1", RuntimeUrl);
        var (id, _) = await relay.CreateConnectionAsync("r1");
        foreach (var query in (string[])[string.Empty, string.Empty, "?terminate=true", "?terminate=false"])
        {
            using var response = await relay.Http.DeleteAsync($"v1/runtimes/r1/connections/{id}{query}");
            Assert.Equal(204, (int)response.StatusCode);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        }

        using var state = await relay.Http.GetFromJsonAsync<JsonDocument>($"v1/runtimes/r1/connections/{id}");
        Assert.Equal("deleted", state!.RootElement.GetProperty("state").GetString());
    }

    [Theory(Timeout = 30_000)]
    [InlineData("random-guid")]
    [InlineData("not-a-guid")]
    [InlineData("12345")]
    [InlineData("other-runtime")]
    public async Task Delete_and_get_of_a_connection_that_never_existed_here_are_404(string kind)
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync("r1", RuntimeUrl);
        await relay.PutRuntimeAsync("r2", RuntimeUrl);
        var (ofR2, _) = await relay.CreateConnectionAsync("r2");
        var id = kind switch
        {
            "random-guid" => Guid.NewGuid().ToString(),
            "other-runtime" => ofR2,
            _ => kind,
        };

        using var delete = await relay.Http.DeleteAsync($"v1/runtimes/r1/connections/{id}");
        await ApiAssert.ErrorAsync(delete, 404, "connection_not_found");
        using var get = await relay.Http.GetAsync($"v1/runtimes/r1/connections/{id}");
        await ApiAssert.ErrorAsync(get, 404, "connection_not_found");

        // The other runtime's connection was not touched through the wrong path.
        using var r2 = await relay.Http.GetFromJsonAsync<JsonDocument>($"v1/runtimes/r2/connections/{ofR2}");
        Assert.Equal("active", r2!.RootElement.GetProperty("state").GetString());
    }

    private static async Task AssertNoConnectionsAsync(RelayServer relay, string runtimeId)
    {
        using var list = await relay.Http.GetFromJsonAsync<JsonDocument>($"v1/runtimes/{runtimeId}/connections");
        Assert.Empty(list!.RootElement.GetProperty("data").EnumerateArray());
    }
}
