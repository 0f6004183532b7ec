using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Bctrl.Relay.EndToEndTests.Infrastructure;
using Bctrl.Relay.Testing;
using PuppeteerSharp;

namespace Bctrl.Relay.EndToEndTests.Scope;

/// <summary>
/// docs/scope.md against a real Chromium: with two tabs open, a lease scoped to one drives that tab through its page
/// socket, lists only that tab, and is refused the other tab's socket and the browser socket with 403 before any
/// upgrade; a browser-level client (Puppeteer) cannot connect with it at all.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class ScopedLeaseTests(ChromiumFixture fixture)
{
    [Fact(Timeout = 120_000)]
    public async Task A_lease_scoped_to_one_of_two_tabs_reaches_that_tab_only()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var relay = await Relays.StartAsync(fixture);
        var (_, admin) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        var adminBase = DataPlane.HttpForm(admin).AbsoluteUri;
        var mine = await DataPlane.OpenTabAsync(adminBase, fixture.Site.Noise(91), timeout.Token);
        var other = await DataPlane.OpenTabAsync(adminBase, fixture.Site.Noise(92), timeout.Token);
        try
        {
            var (connectionId, pageUrl) = await CreateScopedAsync(relay, mine, timeout.Token);
            var browserUrl = new Uri(pageUrl.AbsoluteUri[..pageUrl.AbsoluteUri.IndexOf("/devtools/", StringComparison.Ordinal)]);
            Assert.Equal($"{browserUrl.AbsoluteUri}/devtools/page/{mine}", pageUrl.AbsoluteUri);
            Assert.Equal(mine, (await relay.GetConnectionAsync(connectionId)).GetProperty("scope").GetProperty("target").GetString());

            // Its own tab: attach with a plain CDP client and evaluate in it.
            await using (var cdp = await CdpSocket.ConnectAsync(pageUrl, timeout.Token))
            {
                Assert.Equal(TestSite.NoiseTitle(91), await cdp.WaitForTitleAsync(TestSite.NoiseTitle(91), timeout.Token));
                Assert.Equal(91, (await cdp.EvaluateAsync("window.noiseSeed", timeout.Token)).GetInt32());
                await cdp.CloseAsync(timeout.Token);
            }

            // Discovery shows that tab alone, though Chromium has (at least) two.
            foreach (var document in (string[])["json/list", "json"])
            {
                var (list, text) = await DataPlane.GetDiscoveryAsync(browserUrl, document, timeout.Token);
                using (list)
                {
                    var entry = Assert.Single(list.RootElement.EnumerateArray());
                    Assert.Equal(mine, entry.GetProperty("id").GetString());
                    Assert.Equal(pageUrl.AbsoluteUri, entry.GetProperty("webSocketDebuggerUrl").GetString());
                    Assert.DoesNotContain(other, text, StringComparison.Ordinal);
                }
            }

            var (everything, _) = await DataPlane.GetDiscoveryAsync(admin, "json/list", timeout.Token);
            using (everything)
            {
                Assert.Contains(everything.RootElement.EnumerateArray(), e => e.GetProperty("id").GetString() == other);
            }

            // The other tab's socket, the browser socket and an explicit browser path: 403 before any upgrade.
            var browserPath = fixture.Chromium.BrowserUrl.AbsolutePath;
            foreach (var refused in (Uri[])[new($"{browserUrl.AbsoluteUri}/devtools/page/{other}"), browserUrl, new($"{browserUrl.AbsoluteUri}{browserPath}")])
            {
                var (status, code, body) = await DataPlane.TryUpgradeAsync(refused, timeout.Token);
                Assert.True(status == HttpStatusCode.Forbidden && code == "scope_forbidden", $"{(int)status} {body}");
            }

            using (var version = await DataPlane.Http.GetAsync($"{DataPlane.HttpForm(browserUrl).AbsoluteUri}/json/version", timeout.Token))
            {
                Assert.Equal(HttpStatusCode.Forbidden, version.StatusCode);
            }

            // A browser-level client cannot start: neither from the browser URL nor from the discovery URL.
            await Assert.ThrowsAnyAsync<Exception>(() => PuppeteerClient.ConnectAsync(browserUrl));
            await Assert.ThrowsAnyAsync<Exception>(() => Puppeteer.ConnectAsync(new ConnectOptions
            {
                BrowserURL = DataPlane.HttpForm(browserUrl).AbsoluteUri,
                ProtocolTimeout = 20_000,
            }));
        }
        finally
        {
            await DataPlane.CloseTabAsync(adminBase, mine);
            await DataPlane.CloseTabAsync(adminBase, other);
        }
    }

    private static async Task<(string Id, Uri PageUrl)> CreateScopedAsync(RelayServer relay, string target, CancellationToken cancellationToken)
    {
        using var response = await relay.Http.PostAsJsonAsync(
            $"v1/runtimes/{Relays.RuntimeId}/connections", new { protocol = "cdp", scope = new { target } }, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST connections answered {(int)response.StatusCode}: {text}");
        using var json = JsonDocument.Parse(text);
        Assert.Equal(target, json.RootElement.GetProperty("scope").GetProperty("target").GetString());
        return (json.RootElement.GetProperty("id").GetString()!, new Uri(json.RootElement.GetProperty("endpoint").GetProperty("url").GetString()!));
    }
}
