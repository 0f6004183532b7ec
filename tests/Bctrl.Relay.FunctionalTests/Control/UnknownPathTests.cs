using System.Text.Json;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary>docs/design.md §2, "JSON everywhere": a path the relay does not serve is a JSON 404 that does not echo the path.</summary>
public sealed class UnknownPathTests
{
    [Theory(Timeout = 30_000)]
    [InlineData("/nope")]
    [InlineData("/v2/runtimes")]
    [InlineData("/cdp")]
    [InlineData("/cdp/")]
    [InlineData("/favicon.ico")]
    [InlineData("/index.html")]
    [InlineData("/cdp/TOKEN/json/unknown")]
    [InlineData("/cdp/TOKEN/devtools/worker/abc")]
    [InlineData("/cdp/TOKEN/extra/segments/here")]
    [InlineData("/cdp/TOKEN/json/version/extra.json")]
    public async Task An_unknown_path_is_a_json_404_that_does_not_echo_it(string template)
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, token) = await rig.CreateAsync();
        var path = template.Replace("TOKEN", token, StringComparison.Ordinal);

        using var response = await RawHttp.SendAsync(rig.Relay.BaseUrl, "GET", path, []);
        ApiAssert.Error(response, 404, "not_found");
        Assert.DoesNotContain(token, response.Body, StringComparison.Ordinal);
        foreach (var segment in template.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s.Length > 3 && s != "TOKEN"))
        {
            Assert.DoesNotContain(segment, response.Body, StringComparison.Ordinal);
        }

        await rig.AssertNoUpstreamAsync();
    }

    [Theory(Timeout = 30_000)]
    [InlineData("PATCH", "/v1/runtimes/r1")]
    [InlineData("POST", "/v1/runtimes")]
    [InlineData("DELETE", "/healthz")]
    [InlineData("PUT", "/cdp/TOKEN/json/version")]
    [InlineData("POST", "/cdp/TOKEN")]
    [InlineData("DELETE", "/cdp/TOKEN")]
    [InlineData("POST", "/cdp/TOKEN/devtools/page/ABC")]
    public async Task A_method_the_path_does_not_take_is_answered_in_json(string method, string template)
    {
        await using var relay = await RelayServer.StartAsync();
        var path = template.Replace("TOKEN", "1.test.abc.def", StringComparison.Ordinal);
        using var request = new HttpRequestMessage(new HttpMethod(method), path.TrimStart('/'));
        using var response = await relay.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode is 404 or 405, $"{(int)response.StatusCode}: {body}");
        Assert.True(
            response.Content.Headers.ContentType?.MediaType == "application/json",
            $"{(int)response.StatusCode} with Content-Type {response.Content.Headers.ContentType}, body \"{body}\"");
        using var json = JsonDocument.Parse(body);
        Assert.Equal(JsonValueKind.String, json.RootElement.GetProperty("error").GetProperty("code").ValueKind);
        Assert.DoesNotContain("1.test.abc.def", body, StringComparison.Ordinal);
    }
}
