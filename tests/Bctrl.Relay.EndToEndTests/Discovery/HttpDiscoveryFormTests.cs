using Bctrl.Relay.EndToEndTests.Infrastructure;
using Microsoft.Playwright;
using PuppeteerSharp;
using IPuppeteerBrowser = PuppeteerSharp.IBrowser;

namespace Bctrl.Relay.EndToEndTests.Discovery;

/// <summary>
/// The <c>http://relay/cdp/TOKEN</c> form: the client library reads <c>json/version</c> under the lease's path and
/// follows the rewritten browser socket.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class HttpDiscoveryFormTests(ChromiumFixture fixture)
{
    [Fact(Timeout = 120_000)]
    public async Task Playwright_connects_over_cdp_with_the_http_form()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var (_, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);

        using var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.ConnectOverCDPAsync(DataPlane.HttpForm(endpoint).AbsoluteUri, new() { Timeout = 30_000 });
        try
        {
            var page = await browser.Contexts[0].NewPageAsync();
            await page.GotoAsync(fixture.Site.Noise(31).AbsoluteUri);
            Assert.Equal(TestSite.NoiseTitle(31), await page.EvaluateAsync<string>("() => document.title"));
            Png.AssertFullPageNoise(await page.ScreenshotAsync(new() { FullPage = true }));
            await page.CloseAsync();
        }
        finally
        {
            // For a browser it connected to over CDP, Playwright only closes its socket; Chromium stays up.
            await browser.CloseAsync();
        }
    }

    /// <summary>
    /// PuppeteerSharp's <c>BrowserURL</c> fetches <c>json/version</c> relative to the URL given; this pins that it keeps
    /// the <c>/cdp/TOKEN</c> path prefix (a client that dropped it would reach the relay's 404 instead).
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task Puppeteer_connects_with_the_http_form_as_browser_url()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var (_, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);

        IPuppeteerBrowser? browser = null;
        try
        {
            browser = await Puppeteer.ConnectAsync(new ConnectOptions { BrowserURL = DataPlane.HttpForm(endpoint).AbsoluteUri });
            Assert.StartsWith(endpoint.AbsoluteUri + "/devtools/browser/", browser.WebSocketEndpoint, StringComparison.Ordinal);
            Assert.Contains("Chrome", await browser.GetVersionAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await PuppeteerClient.ReleaseAsync(browser);
        }
    }
}
