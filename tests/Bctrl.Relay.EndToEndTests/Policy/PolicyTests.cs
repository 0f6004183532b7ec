using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Bctrl.Relay.EndToEndTests.Infrastructure;
using Bctrl.Relay.Testing;
using PuppeteerSharp;

namespace Bctrl.Relay.EndToEndTests.Policy;

/// <summary>
/// docs/policy.md against a real Chromium and PuppeteerSharp: a denied command comes back to the client as a CDP error
/// on the session that sent it, and the runtime never sees it.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class PolicyTests(ChromiumFixture fixture)
{
    [Fact(Timeout = 120_000)]
    public async Task A_denied_Browser_close_leaves_the_browser_up_and_the_client_gets_the_error()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var relay = await Relays.StartAsync(fixture);
        var endpoint = await CreateAsync(relay, new { preset = "noBrowserControl" }, timeout.Token);
        var (_, admin) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        var adminBase = DataPlane.HttpForm(admin).AbsoluteUri;

        IBrowser? browser = null;
        IPage? page = null;
        try
        {
            browser = await PuppeteerClient.ConnectAsync(endpoint);
            page = await browser.NewPageAsync(); // Target.createTarget is not browser control
            await page.GoToAsync(fixture.Site.Noise(71).AbsoluteUri);

            // On the browser's own session and on the page's: the error names the policy, routed by id and sessionId.
            var browserSession = await browser.Target.CreateCDPSessionAsync();
            var onBrowser = await Assert.ThrowsAnyAsync<PuppeteerException>(() => browserSession.SendAsync("Browser.close"));
            Assert.Contains("Browser.close is denied by this lease's policy (noBrowserControl)", onBrowser.Message, StringComparison.Ordinal);
            var onPage = await Assert.ThrowsAnyAsync<PuppeteerException>(() => page.Client.SendAsync("Browser.close"));
            Assert.Contains("denied by this lease's policy", onPage.Message, StringComparison.Ordinal);

            // The browser is up and the attach carries on.
            Assert.Equal(TestSite.NoiseTitle(71), await page.EvaluateExpressionAsync<string>("document.title"));
            Assert.Contains("Browser", await DataPlane.Http.GetStringAsync($"{adminBase}/json/version", timeout.Token), StringComparison.Ordinal);

            // /json/close through the lease is Target.closeTarget too, refused whatever the tab (HTTP has no attach that made it).
            using var closed = await DataPlane.Http.GetAsync($"{DataPlane.HttpForm(endpoint).AbsoluteUri}/json/close/{page.MainFrame.Id}", timeout.Token);
            Assert.Equal(HttpStatusCode.Forbidden, closed.StatusCode);
            Assert.False(page.IsClosed);

            // A tab the attach did not open stays open; the one it opened, Puppeteer closes as usual.
            var theirs = await DataPlane.OpenTabAsync(adminBase, fixture.Site.Noise(74), timeout.Token, TestSite.NoiseTitle(74));
            try
            {
                var refused = await Assert.ThrowsAnyAsync<PuppeteerException>(() => browserSession.SendAsync("Target.closeTarget", new { targetId = theirs }));
                Assert.Contains("Target.closeTarget is denied by this lease's policy (noBrowserControl)", refused.Message, StringComparison.Ordinal);
                Assert.Contains(theirs, await DataPlane.Http.GetStringAsync($"{adminBase}/json/list", timeout.Token), StringComparison.Ordinal);
            }
            finally
            {
                await DataPlane.CloseTabAsync(adminBase, theirs);
            }

            await page.CloseAsync();
            Assert.True(page.IsClosed);
        }
        finally
        {
            if (page is not null)
            {
                await DataPlane.CloseTabAsync(adminBase, page.MainFrame.Id);
            }

            browser?.Disconnect();
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task A_read_only_lease_takes_screenshots_and_reads_the_DOM_but_cannot_click_or_navigate()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var relay = await Relays.StartAsync(fixture);
        var (_, admin) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        var adminBase = DataPlane.HttpForm(admin).AbsoluteUri;
        var tab = await DataPlane.OpenTabAsync(adminBase, fixture.Site.Noise(72), timeout.Token, TestSite.NoiseTitle(72)); // loaded before a read-only client looks
        var readOnly = await CreateAsync(relay, new { preset = "readOnly" }, timeout.Token);

        IBrowser? browser = null;
        try
        {
            browser = await PuppeteerClient.ConnectAsync(readOnly);
            var page = await WaitForPageAsync(browser, tab, timeout.Token);

            // Look: a screenshot and the DOM.
            Png.AssertFullPageNoise(await page.ScreenshotDataAsync(new ScreenshotOptions { FullPage = true }));
            var document = await page.Client.SendAsync<JsonElement>("DOM.getDocument", new { depth = 0 });
            var html = await page.Client.SendAsync<JsonElement>("DOM.getOuterHTML", new { nodeId = document.GetProperty("root").GetProperty("nodeId").GetInt32() });
            Assert.Contains(TestSite.NoiseTitle(72), html.GetProperty("outerHTML").GetString(), StringComparison.Ordinal);

            // Never touch: input, navigation and script are refused by the relay.
            var click = await Assert.ThrowsAnyAsync<PuppeteerException>(() => page.Mouse.ClickAsync(10, 10));
            Assert.Contains("Input.dispatchMouseEvent is denied by this lease's policy (readOnly)", click.ToString(), StringComparison.Ordinal);
            var navigate = await Assert.ThrowsAnyAsync<PuppeteerException>(() => page.GoToAsync(fixture.Site.Noise(73).AbsoluteUri));
            Assert.Contains("Page.navigate is denied", navigate.ToString(), StringComparison.Ordinal);
            await Assert.ThrowsAnyAsync<PuppeteerException>(() => page.Client.SendAsync("Runtime.evaluate", new { expression = "document.title = 'changed'" }));

            // The page is as it was.
            using var list = JsonDocument.Parse(await DataPlane.Http.GetStringAsync($"{adminBase}/json/list", timeout.Token));
            var entry = list.RootElement.EnumerateArray().Single(e => e.GetProperty("id").GetString() == tab);
            Assert.Equal(TestSite.NoiseTitle(72), entry.GetProperty("title").GetString());
        }
        finally
        {
            browser?.Disconnect();
            await DataPlane.CloseTabAsync(adminBase, tab);
        }
    }

    private static async Task<Uri> CreateAsync(RelayServer relay, object policy, CancellationToken cancellationToken)
    {
        using var response = await relay.Http.PostAsJsonAsync($"v1/runtimes/{Relays.RuntimeId}/connections", new { protocol = "cdp", policy }, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST connections answered {(int)response.StatusCode}: {text}");
        using var json = JsonDocument.Parse(text);
        Assert.True(json.RootElement.TryGetProperty("policy", out _), text);
        return new Uri(json.RootElement.GetProperty("endpoint").GetProperty("url").GetString()!);
    }

    private static async Task<IPage> WaitForPageAsync(IBrowser browser, string targetId, CancellationToken cancellationToken)
    {
        while (true)
        {
            foreach (var page in await browser.PagesAsync())
            {
                if (page.MainFrame.Id == targetId)
                {
                    return page;
                }
            }

            await Task.Delay(100, cancellationToken);
        }
    }
}
