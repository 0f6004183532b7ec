using Bctrl.Relay.Client;
using Bctrl.Relay.EndToEndTests.Infrastructure;
using Bctrl.Relay.Testing;
using PuppeteerSharp;

namespace Bctrl.Relay.EndToEndTests.Clients;

/// <summary>
/// The .NET client end to end: it registers the collection's Chromium, makes a lease, PuppeteerSharp drives a page
/// through the lease's URL, and the client reads back the attach's record and its events.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class RelayClientPuppeteerTests(ChromiumFixture fixture)
{
    [Fact(Timeout = 120_000)]
    public async Task PuppeteerSharp_drives_Chromium_through_a_lease_the_client_made()
    {
        await using var server = await RelayServer.StartAsync();
        using var relay = new RelayClient(server.BaseUrl, RelayServer.ControlKey);
        await relay.Runtimes.PutAsync(Relays.RuntimeId, fixture.Chromium.BrowserUrl);
        var runtime = relay.Runtimes[Relays.RuntimeId];
        var connection = await runtime.Connections.CreateAsync(new() { Protocol = "cdp", Ttl = TimeSpan.FromMinutes(5) });

        IBrowser? browser = null;
        IPage? page = null;
        try
        {
            browser = await PuppeteerClient.ConnectAsync(connection.Endpoint.Url);
            page = await browser.NewPageAsync();
            var response = await page.GoToAsync(fixture.Site.Noise(7).AbsoluteUri);
            Assert.True(response.Ok, $"Navigation answered {response.Status}.");
            Assert.Equal(TestSite.NoiseTitle(7), await page.EvaluateExpressionAsync<string>("document.title"));
            Assert.Equal(1, (await runtime.Connections.GetAsync(connection.Id)).Attaches.Live);
        }
        finally
        {
            await PuppeteerClient.ReleaseAsync(browser, page);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var filter = new EventFilter { ConnectionId = connection.Id, Types = ["cdp.command", "attach.closed"] };
        var commands = new List<string>();
        await foreach (var record in runtime.Events.StreamAsync(filter, timeout.Token))
        {
            if (record.Type == "attach.closed")
            {
                Assert.Equal("client", record.Attach!.ClosedBy);
                break;
            }

            commands.Add(record.Method!);
        }

        Assert.Contains("Target.createTarget", commands);
        Assert.Contains("Page.navigate", commands);
        var attach = Assert.Single(await runtime.Connections.ListAttachesAsync(connection.Id));
        Assert.NotNull(attach.ClosedAt);
        Assert.True(attach.BytesFromRuntime > 0);
        await runtime.Connections.DeleteAsync(connection.Id);
        Assert.Equal("deleted", (await runtime.Connections.GetAsync(connection.Id)).State);
    }
}
