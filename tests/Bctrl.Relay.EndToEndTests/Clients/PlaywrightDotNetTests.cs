using Bctrl.Relay.EndToEndTests.Infrastructure;
using Microsoft.Playwright;

namespace Bctrl.Relay.EndToEndTests.Clients;

/// <summary>
/// Microsoft.Playwright (.NET) through the relay's <c>ws://</c> endpoint URL. Its driver is the Node build shipped in the
/// package (<c>.playwright/node</c>); <c>connectOverCDP</c> needs no browser download.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class PlaywrightDotNetTests(ChromiumFixture fixture)
{
    [Fact(Timeout = 120_000)]
    public async Task Connects_over_cdp_with_the_ws_url_and_drives_two_pages()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var (_, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);

        using var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.ConnectOverCDPAsync(endpoint.AbsoluteUri, new() { Timeout = 30_000 });
        try
        {
            Assert.True(browser.IsConnected);
            var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 640, Height = 480 } });
            var first = await context.NewPageAsync();
            var second = await context.NewPageAsync();
            await Task.WhenAll(first.GotoAsync(fixture.Site.Noise(51).AbsoluteUri), second.GotoAsync(fixture.Site.Noise(52).AbsoluteUri));
            Assert.Equal(TestSite.NoiseTitle(51), await first.TitleAsync());
            Assert.Equal(52, await second.EvaluateAsync<int>("() => window.noiseSeed"));

            // One after the other, each page brought to the front first: a page in a background tab of a headless Chromium
            // may draw no frame for a screenshot to wait on, and twice waited out Playwright's 30 s on a loaded machine
            // (CI's dry runs). What the relay carries is the same either way.
            var screenshots = new List<byte[]>();
            foreach (var page in (IPage[])[first, second])
            {
                await page.BringToFrontAsync();
                screenshots.Add(await page.ScreenshotAsync(new() { FullPage = true }));
            }
            Assert.All(screenshots, Png.AssertFullPageNoise);
            Assert.NotEqual(screenshots[0], screenshots[1]);
            await context.CloseAsync();
        }
        finally
        {
            await browser.CloseAsync();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Terminate_disconnects_a_playwright_browser()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var (connectionId, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);

        using var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.ConnectOverCDPAsync(endpoint.AbsoluteUri, new() { Timeout = 30_000 });
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        browser.Disconnected += (_, _) => disconnected.TrySetResult();
        try
        {
            Assert.NotEmpty(browser.Version);
            await relay.DeleteConnectionAsync(Relays.RuntimeId, connectionId, terminate: true);
            await disconnected.Task.WaitAsync(TimeSpan.FromSeconds(15));
            Assert.False(browser.IsConnected);
        }
        finally
        {
            await browser.CloseAsync();
        }
    }
}
