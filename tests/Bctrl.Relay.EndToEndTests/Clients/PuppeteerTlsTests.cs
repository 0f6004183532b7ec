using Bctrl.Relay.EndToEndTests.Infrastructure;
using Bctrl.Relay.Testing;
using PuppeteerSharp;

namespace Bctrl.Relay.EndToEndTests.Clients;

/// <summary>Issue 10: PuppeteerSharp through a relay on <c>https://</c>, over the <c>wss://</c> URL it hands out.</summary>
[Collection(ChromiumCollection.Name)]
public sealed class PuppeteerTlsTests(ChromiumFixture fixture)
{
    [Fact(Timeout = 120_000)]
    public async Task Puppeteer_navigates_evaluates_and_screenshots_over_wss()
    {
        using var certificates = new TestCertificates();
        await using var relay = await Relays.StartAsync(fixture, tls: certificates);
        var (_, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        Assert.Equal("wss", endpoint.Scheme);

        // A client that trusts only the system store refuses the test authority's certificate: TLS is really in the way.
        await Assert.ThrowsAnyAsync<Exception>(() => PuppeteerClient.ConnectAsync(endpoint));

        IBrowser? browser = null;
        IPage? page = null;
        try
        {
            browser = await PuppeteerClient.ConnectAsync(endpoint, certificates);
            page = await browser.NewPageAsync();
            const int seed = 71;
            var response = await page.GoToAsync(fixture.Site.Noise(seed).AbsoluteUri);
            Assert.True(response.Ok, $"Navigation answered {response.Status}.");
            Assert.Equal(TestSite.NoiseTitle(seed), await page.EvaluateExpressionAsync<string>("document.title"));
            Png.AssertFullPageNoise(await page.ScreenshotDataAsync(new ScreenshotOptions { FullPage = true }));
        }
        finally
        {
            await PuppeteerClient.ReleaseAsync(browser, page);
        }
    }
}
