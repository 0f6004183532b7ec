using System.Net;
using System.Text.Json;
using Bctrl.Relay.EndToEndTests.Infrastructure;

namespace Bctrl.Relay.EndToEndTests.Discovery;

/// <summary>
/// Issue 10: Chromium's target commands through a lease, against a real Chromium: <c>PUT /json/new?url</c> opens a tab
/// and answers its target with the socket rewritten through the relay; <c>/json/activate/{id}</c> and
/// <c>/json/close/{id}</c> act on the lease's runtime; an unknown id is 404 <c>target_not_found</c>, a malformed one
/// 400 <c>invalid_target</c>, <c>GET /json/new</c> 405, and a bad lease 401 before the runtime is asked.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class TargetCommandsTests(ChromiumFixture fixture)
{
    [Fact(Timeout = 90_000)]
    public async Task A_tab_opened_through_the_lease_is_attached_activated_and_closed_through_it()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var relay = await Relays.StartAsync(fixture);
        var (_, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        var baseUrl = DataPlane.HttpForm(endpoint).AbsoluteUri;
        var page = fixture.Site.Noise(81);

        using var opened = await DataPlane.Http.PutAsync($"{baseUrl}/json/new?{page.AbsoluteUri}", null, timeout.Token);
        var text = await opened.Content.ReadAsStringAsync(timeout.Token);
        Assert.True(opened.StatusCode == HttpStatusCode.OK, $"PUT json/new answered {(int)opened.StatusCode}: {text}");
        Assert.DoesNotContain(fixture.Chromium.HttpUrl.Authority, text, StringComparison.Ordinal);
        using var target = JsonDocument.Parse(text);
        var id = target.RootElement.GetProperty("id").GetString()!;
        var socket = new Uri(target.RootElement.GetProperty("webSocketDebuggerUrl").GetString()!);
        Assert.Equal($"{endpoint.AbsoluteUri}/devtools/page/{id}", socket.AbsoluteUri);

        await using (var cdp = await CdpSocket.ConnectAsync(socket, timeout.Token))
        {
            var title = await cdp.WaitForTitleAsync(TestSite.NoiseTitle(81), timeout.Token);
            Assert.Equal(TestSite.NoiseTitle(81), title);
        }

        using var activated = await DataPlane.Http.GetAsync($"{baseUrl}/json/activate/{id}", timeout.Token);
        Assert.Equal(HttpStatusCode.OK, activated.StatusCode);
        Assert.StartsWith("text/plain", activated.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);

        using var closed = await DataPlane.Http.GetAsync($"{baseUrl}/json/close/{id}", timeout.Token);
        Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        bool listed;
        do
        {
            var (list, _) = await DataPlane.GetDiscoveryAsync(endpoint, "json/list", timeout.Token);
            using (list)
            {
                listed = list.RootElement.EnumerateArray().Any(entry => entry.GetProperty("id").GetString() == id);
            }

            if (listed)
            {
                await Task.Delay(100, timeout.Token);
            }
        }
        while (listed && DateTime.UtcNow < deadline);

        Assert.False(listed, "the closed tab is still listed");
    }

    [Fact(Timeout = 60_000)]
    public async Task Unknown_and_malformed_targets_wrong_methods_and_bad_leases_get_json_errors()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        await using var relay = await Relays.StartAsync(fixture);
        var (_, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        var baseUrl = DataPlane.HttpForm(endpoint).AbsoluteUri;

        await AssertErrorAsync(HttpMethod.Get, $"{baseUrl}/json/close/0123456789ABCDEF0123456789ABCDEF", HttpStatusCode.NotFound, "target_not_found", timeout.Token);
        await AssertErrorAsync(HttpMethod.Get, $"{baseUrl}/json/activate/0123456789ABCDEF0123456789ABCDEF", HttpStatusCode.NotFound, "target_not_found", timeout.Token);
        await AssertErrorAsync(HttpMethod.Get, $"{baseUrl}/json/close/not%20an%20id", HttpStatusCode.BadRequest, "invalid_target", timeout.Token);
        await AssertErrorAsync(HttpMethod.Get, $"{baseUrl}/json/new?about:blank", HttpStatusCode.MethodNotAllowed, "method_not_allowed", timeout.Token);

        var forged = baseUrl[..^3] + (baseUrl[^3] == 'A' ? "B" : "A") + baseUrl[^2..];
        await AssertErrorAsync(HttpMethod.Put, $"{forged}/json/new?about:blank", HttpStatusCode.Unauthorized, "invalid_lease", timeout.Token);
        await AssertErrorAsync(HttpMethod.Get, $"{forged}/json/close/not%20an%20id", HttpStatusCode.Unauthorized, "invalid_lease", timeout.Token);
    }

    private static async Task AssertErrorAsync(HttpMethod method, string url, HttpStatusCode status, string code, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, url);
        using var response = await DataPlane.Http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == status, $"{method} {new Uri(url).AbsolutePath.Split("/json/")[^1]} answered {(int)response.StatusCode}, expected {(int)status}: {body}");
        using var json = JsonDocument.Parse(body);
        Assert.Equal(code, json.RootElement.GetProperty("error").GetProperty("code").GetString());
    }
}
