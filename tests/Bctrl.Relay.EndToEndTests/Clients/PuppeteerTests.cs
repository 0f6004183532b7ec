using Bctrl.Relay.EndToEndTests.Infrastructure;
using PuppeteerSharp;

namespace Bctrl.Relay.EndToEndTests.Clients;

/// <summary>PuppeteerSharp driving real pages through the relay's <c>ws://</c> endpoint URL.</summary>
[Collection(ChromiumCollection.Name)]
public sealed class PuppeteerTests(ChromiumFixture fixture)
{
    [Fact(Timeout = 120_000)]
    public async Task Two_pages_navigate_evaluate_and_take_full_page_screenshots_over_1_MiB()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var (_, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        Assert.Equal("ws", endpoint.Scheme);
        Assert.Equal(relay.BaseUrl.Authority, endpoint.Authority);
        Assert.StartsWith("/cdp/", endpoint.AbsolutePath, StringComparison.Ordinal);

        IBrowser? browser = null;
        IPage[] pages = [];
        try
        {
            browser = await PuppeteerClient.ConnectAsync(endpoint);
            pages = await Task.WhenAll(browser.NewPageAsync(), browser.NewPageAsync());
            int[] seeds = [11, 12];
            var responses = await Task.WhenAll(pages.Select((page, i) => page.GoToAsync(fixture.Site.Noise(seeds[i]).AbsoluteUri)));
            Assert.All(responses, response => Assert.True(response.Ok, $"Navigation answered {response.Status}."));

            for (var i = 0; i < pages.Length; i++)
            {
                Assert.Equal(TestSite.NoiseTitle(seeds[i]), await pages[i].EvaluateExpressionAsync<string>("document.title"));
                Assert.Equal(seeds[i], await pages[i].EvaluateExpressionAsync<int>("window.noiseSeed"));
                Assert.True(await pages[i].EvaluateExpressionAsync<int>("document.documentElement.scrollHeight") >= TestSite.NoiseHeight);
            }

            // Both screenshots at once: two multi-megabyte results interleave on the one attach.
            var screenshots = await Task.WhenAll(pages.Select(page => page.ScreenshotDataAsync(new ScreenshotOptions { FullPage = true })));
            foreach (var png in screenshots)
            {
                Png.AssertFullPageNoise(png);
            }

            Assert.NotEqual(screenshots[0], screenshots[1]);
        }
        finally
        {
            await PuppeteerClient.ReleaseAsync(browser, pages);
        }
    }
}
