using System.Net.Http.Json;
using System.Text.Json;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary>docs/design.md §2: every control call needs <c>Authorization: Bearer &lt;control key&gt;</c>.</summary>
public sealed class ControlAuthTests
{
    public static TheoryData<string, string?> BadAuthorizations => new()
    {
        { "no header", null },
        { "wrong key", "Bearer wrong-control-key-0123456789ab" },
        { "wrong scheme", $"Basic {RelayServer.ControlKey}" },
        { "no scheme", RelayServer.ControlKey },
        { "empty bearer", "Bearer " },
        { "key prefix only", $"Bearer {RelayServer.ControlKey[..^1]}" },
        { "key with suffix", $"Bearer {RelayServer.ControlKey}x" },
        { "key in other case", $"Bearer {RelayServer.ControlKey.ToUpperInvariant()}" },
    };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(BadAuthorizations))]
    public async Task Every_control_call_without_the_key_is_401_with_WWW_Authenticate(string why, string? authorization)
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync("r1", new Uri("ws://127.0.0.1:9/devtools/browser/x"));
        var (connectionId, _) = await relay.CreateConnectionAsync("r1");
        using var anonymous = new HttpClient { BaseAddress = relay.BaseUrl };

        (HttpMethod Method, string Path, string? Body)[] calls =
        [
            (HttpMethod.Get, "v1/runtimes", null),
            (HttpMethod.Get, "v1/runtimes/r1", null),
            (HttpMethod.Put, "v1/runtimes/r2", """{"cdpUrl":"ws://127.0.0.1:9/devtools/browser/y"}"""),
            (HttpMethod.Delete, "v1/runtimes/r1", null),
            (HttpMethod.Post, "v1/runtimes/r1/connections", """{"protocol":"cdp"}"""),
            (HttpMethod.Get, "v1/runtimes/r1/connections", null),
            (HttpMethod.Get, $"v1/runtimes/r1/connections/{connectionId}", null),
            (HttpMethod.Delete, $"v1/runtimes/r1/connections/{connectionId}", null),
            (HttpMethod.Delete, $"v1/runtimes/r1/connections/{connectionId}?terminate=true", null),
        ];
        foreach (var (method, path, body) in calls)
        {
            using var request = new HttpRequestMessage(method, path);
            if (authorization is not null)
            {
                Assert.True(request.Headers.TryAddWithoutValidation("Authorization", authorization));
            }

            if (body is not null)
            {
                request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
            }

            using var response = await anonymous.SendAsync(request);
            var text = await ApiAssert.ErrorAsync(response, 401, "unauthorized");
            Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(RelayServer.ControlKey, text, StringComparison.OrdinalIgnoreCase);
            _ = why;
        }

        // Nothing was done on the refused calls' behalf.
        using var runtimes = await relay.Http.GetFromJsonAsync<JsonDocument>("v1/runtimes");
        Assert.Equal(["r1"], runtimes!.RootElement.GetProperty("data").EnumerateArray().Select(r => r.GetProperty("id").GetString()));
        using var connections = await relay.Http.GetFromJsonAsync<JsonDocument>("v1/runtimes/r1/connections");
        var only = Assert.Single(connections!.RootElement.GetProperty("data").EnumerateArray());
        Assert.Equal("active", only.GetProperty("state").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task The_bearer_scheme_is_case_insensitive_and_the_right_key_is_accepted()
    {
        await using var relay = await RelayServer.StartAsync();
        using var client = new HttpClient { BaseAddress = relay.BaseUrl };
        foreach (var scheme in (string[])["Bearer", "bearer", "BEARER"])
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "v1/runtimes");
            Assert.True(request.Headers.TryAddWithoutValidation("Authorization", $"{scheme} {RelayServer.ControlKey}"));
            using var response = await client.SendAsync(request);
            Assert.Equal(200, (int)response.StatusCode);
        }
    }

    /// <summary>
    /// Authentication comes before anything else: a caller without the key learns nothing from how a malformed
    /// query is treated, and still gets the JSON 401.
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task A_call_without_the_key_is_401_even_when_its_query_is_malformed()
    {
        await using var relay = await RelayServer.StartAsync();
        using var anonymous = new HttpClient { BaseAddress = relay.BaseUrl };
        using var response = await anonymous.DeleteAsync($"v1/runtimes/r1/connections/{Guid.NewGuid()}?terminate=maybe");
        await ApiAssert.ErrorAsync(response, 401, "unauthorized");
    }

    /// <summary>docs/design.md §2, "JSON everywhere": a query the relay cannot read is a 400 with the error shape, not an empty body.</summary>
    [Fact(Timeout = 30_000)]
    public async Task A_malformed_query_value_is_a_400_with_the_error_shape()
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync("r1", new Uri("ws://127.0.0.1:9/devtools/browser/x"));
        var (connectionId, _) = await relay.CreateConnectionAsync("r1");
        using var response = await relay.Http.DeleteAsync($"v1/runtimes/r1/connections/{connectionId}?terminate=maybe");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(400, (int)response.StatusCode);
        Assert.True(
            response.Content.Headers.ContentType?.MediaType == "application/json",
            $"{(int)response.StatusCode} with Content-Type {response.Content.Headers.ContentType}, body \"{body}\"");
        using var json = JsonDocument.Parse(body);
        Assert.Equal(JsonValueKind.String, json.RootElement.GetProperty("error").GetProperty("code").ValueKind);
    }
}
