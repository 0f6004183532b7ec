using System.Globalization;
using Bctrl.Relay.EndToEndTests.Infrastructure;
using PuppeteerSharp;

namespace Bctrl.Relay.EndToEndTests.Discovery;

/// <summary>
/// The discovery documents under a lease point back at the relay, and a page-level socket taken from
/// <c>/json/list</c> drives that page while a browser-level client is attached too.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class PageLevelAttachTests(ChromiumFixture fixture)
{
    [Fact(Timeout = 120_000)]
    public async Task A_second_client_drives_a_page_through_the_page_url_from_json_list()
    {
        // The runtime registered by its http:// debugging address: the browser socket is resolved at attach time.
        await using var relay = await Relays.StartAsync(fixture, httpCdpUrl: true);
        var (_, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        IBrowser? browser = null;
        IPage? page = null;
        try
        {
            browser = await PuppeteerClient.ConnectAsync(endpoint);
            page = await browser.NewPageAsync();
            var pageUrl = fixture.Site.Noise(21);
            await page.GoToAsync(pageUrl.AbsoluteUri);

            var (targetId, socketUrl, entry, text) = await DataPlane.FindPageAsync(endpoint, pageUrl, timeout.Token);

            // The runtime's address appears nowhere in what the client is given.
            var runtimePort = ":" + fixture.Chromium.BrowserUrl.Port.ToString(CultureInfo.InvariantCulture) + "/";
            Assert.DoesNotContain(runtimePort, text, StringComparison.Ordinal);
            Assert.Equal($"{endpoint.AbsoluteUri}/devtools/page/{targetId}", socketUrl.AbsoluteUri);
            if (entry.TryGetProperty("devtoolsFrontendUrl", out var frontend))
            {
                Assert.Contains($"ws={endpoint.Authority}{endpoint.AbsolutePath}/devtools/page/{targetId}", frontend.GetString(), StringComparison.Ordinal);
            }

            await using (var second = await CdpSocket.ConnectAsync(socketUrl, timeout.Token))
            {
                Assert.Equal(TestSite.NoiseTitle(21), (await second.EvaluateAsync("document.title", timeout.Token)).GetString());
                Assert.Equal(21, (await second.EvaluateAsync("window.noiseSeed", timeout.Token)).GetInt32());

                // What the second client does, the first one sees: it is the same page.
                await second.EvaluateAsync("document.title = 'driven through the page socket'", timeout.Token);
                Assert.Equal("driven through the page socket", await page.GetTitleAsync());
                await second.CloseAsync(timeout.Token);
            }

            Assert.Equal(pageUrl.AbsoluteUri, page.Url);
        }
        finally
        {
            await PuppeteerClient.ReleaseAsync(browser, page);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Json_version_names_a_browser_socket_through_the_relay_that_works()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var (_, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var (version, text) = await DataPlane.GetDiscoveryAsync(endpoint, "json/version", timeout.Token);
        using (version)
        {
            Assert.DoesNotContain(fixture.Chromium.BrowserUrl.Authority, text, StringComparison.Ordinal);
            var socketUrl = version.RootElement.GetProperty("webSocketDebuggerUrl").GetString()!;
            Assert.Equal($"{endpoint.AbsoluteUri}{fixture.Chromium.BrowserUrl.AbsolutePath}", socketUrl);

            await using var socket = await CdpSocket.ConnectAsync(new Uri(socketUrl), timeout.Token);
            var browserVersion = await socket.SendAsync("Browser.getVersion", null, timeout.Token);
            Assert.Equal(version.RootElement.GetProperty("Browser").GetString(), browserVersion.GetProperty("product").GetString());
            await socket.CloseAsync(timeout.Token);
        }
    }
}
