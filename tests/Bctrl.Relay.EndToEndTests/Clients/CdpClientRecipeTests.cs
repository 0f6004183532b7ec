using System.Text.Json;
using Bctrl.Relay.EndToEndTests.Infrastructure;

namespace Bctrl.Relay.EndToEndTests.Clients;

/// <summary>
/// Issue 10: the recipes of docs/clients.md for CDP clients beyond Playwright and Puppeteer, each run as that client
/// runs: chrome-remote-interface with <c>{target}</c> and with host and port plus the lease's path, and a client that
/// rebuilds the socket URL from <c>/json/version</c> the way chromedp does.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class CdpClientRecipeTests(ChromiumFixture fixture)
{
    [Fact(Timeout = 90_000)]
    public async Task Chrome_remote_interface_reaches_the_browser_socket_with_the_target_form()
    {
        var script = NodeScripts.Find("cri.mjs", "chrome-remote-interface");
        await using var relay = await Relays.StartAsync(fixture);
        var (_, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);

        var output = await NodeScripts.RunAsync(script, ["target", endpoint.AbsoluteUri], TimeSpan.FromSeconds(60));
        using var result = JsonDocument.Parse(output);
        Assert.Contains("Chrome", result.RootElement.GetProperty("product").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 90_000)]
    public async Task Chrome_remote_interface_opens_attaches_activates_and_closes_a_tab_with_host_port_and_path()
    {
        var script = NodeScripts.Find("cri.mjs", "chrome-remote-interface");
        await using var relay = await Relays.StartAsync(fixture);
        var (_, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        var page = fixture.Site.Noise(91);

        var output = await NodeScripts.RunAsync(script, ["hostport", endpoint.AbsoluteUri, page.AbsoluteUri], TimeSpan.FromSeconds(60));
        using var result = JsonDocument.Parse(output);
        var root = result.RootElement;
        var id = root.GetProperty("id").GetString();
        Assert.Equal($"{endpoint.AbsoluteUri}/devtools/page/{id}", root.GetProperty("socket").GetString());
        Assert.False(root.GetProperty("stillListed").GetBoolean(), "the tab closed through the lease is still listed");
        Assert.True(root.GetProperty("title").ValueKind == JsonValueKind.String);
    }

    /// <summary>
    /// chromedp, given an <c>http://</c> address, reads <c>/json/version</c> and dials its <c>webSocketDebuggerUrl</c>
    /// with the host and port replaced by the ones it was given. Through a relay the path carries the lease, so the
    /// rebuilt URL must keep it: this does exactly that rebuild and drives the browser over it.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task A_client_that_rebuilds_the_socket_url_from_json_version_with_its_own_host_reaches_the_browser()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        await using var relay = await Relays.StartAsync(fixture);
        var (_, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);

        var (version, _) = await DataPlane.GetDiscoveryAsync(endpoint, "json/version", timeout.Token);
        Uri rebuilt;
        using (version)
        {
            var advertised = new Uri(version.RootElement.GetProperty("webSocketDebuggerUrl").GetString()!);
            rebuilt = new UriBuilder(advertised) { Host = "localhost", Port = endpoint.Port }.Uri;
        }

        Assert.StartsWith("/cdp/", rebuilt.AbsolutePath, StringComparison.Ordinal);
        await using var cdp = await CdpSocket.ConnectAsync(rebuilt, timeout.Token);
        var browser = await cdp.SendAsync("Browser.getVersion", null, timeout.Token);
        Assert.Contains("Chrome", browser.GetProperty("product").GetString(), StringComparison.Ordinal);
    }
}
