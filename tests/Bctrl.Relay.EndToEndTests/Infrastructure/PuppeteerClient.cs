using PuppeteerSharp;

namespace Bctrl.Relay.EndToEndTests.Infrastructure;

/// <summary>
/// PuppeteerSharp connected to an endpoint; it never downloads or launches a browser. Its browser is released with
/// <see cref="IBrowser.Disconnect"/>, never closed or disposed: on a connected browser those send <c>Browser.close</c>,
/// which would end the collection's Chromium.
/// </summary>
internal static class PuppeteerClient
{
    public static Task<IBrowser> ConnectAsync(Uri endpoint) => Puppeteer.ConnectAsync(new ConnectOptions
    {
        BrowserWSEndpoint = endpoint.AbsoluteUri,
        ProtocolTimeout = 60_000,
    });

    /// <summary>Closes the pages the test opened (while the browser is still reachable) and disconnects.</summary>
    public static async Task ReleaseAsync(IBrowser? browser, params IPage?[] pages)
    {
        if (browser is null)
        {
            return;
        }

        foreach (var page in pages)
        {
            if (page is { IsClosed: false } && browser.IsConnected)
            {
                try
                {
                    await page.CloseAsync();
                }
                catch (PuppeteerException)
                {
                    // The attach ended under the page (what some tests do on purpose); the page stays in Chromium.
                }
            }
        }

        if (browser.IsConnected)
        {
            browser.Disconnect();
        }
    }
}
