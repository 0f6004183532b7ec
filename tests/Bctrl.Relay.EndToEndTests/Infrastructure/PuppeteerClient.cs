using Bctrl.Relay.Testing;
using PuppeteerSharp;

namespace Bctrl.Relay.EndToEndTests.Infrastructure;

/// <summary>
/// PuppeteerSharp connected to an endpoint; it never downloads or launches a browser. Its browser is released with
/// <see cref="IBrowser.Disconnect"/>, never closed or disposed: on a connected browser those send <c>Browser.close</c>,
/// which would end the collection's Chromium.
/// </summary>
internal static class PuppeteerClient
{
    /// <param name="authority">For a <c>wss://</c> endpoint: the test authority its certificate chains to, the only
    /// one trusted.</param>
    public static Task<IBrowser> ConnectAsync(Uri endpoint, TestCertificates? authority = null) => Puppeteer.ConnectAsync(new ConnectOptions
    {
        BrowserWSEndpoint = endpoint.AbsoluteUri,
        ProtocolTimeout = 60_000,
        WebSocketFactory = authority is null ? null : async (url, _, cancellationToken) =>
        {
            var socket = new System.Net.WebSockets.ClientWebSocket();
            socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => authority.Trusts(certificate);
            await socket.ConnectAsync(url, cancellationToken);
            return socket;
        },
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
