using Bctrl.Relay.EndToEndTests.Infrastructure;

namespace Bctrl.Relay.EndToEndTests.Leases;

/// <summary>One lease, many attaches in a row: each one connects, does a round trip, closes, and leaves nothing live.</summary>
[Collection(ChromiumCollection.Name)]
public sealed class AttachCycleTests(ChromiumFixture fixture)
{
    private const int Cycles = 100;

    [Fact(Timeout = 120_000)]
    public async Task A_hundred_puppeteer_attach_detach_cycles_all_succeed()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var (connectionId, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);

        for (var cycle = 0; cycle < Cycles; cycle++)
        {
            var browser = await PuppeteerClient.ConnectAsync(endpoint);
            try
            {
                Assert.Contains("Chrome", await browser.GetVersionAsync(), StringComparison.Ordinal);
            }
            finally
            {
                await PuppeteerClient.ReleaseAsync(browser);
            }
        }

        var connection = await relay.WaitForLiveAttachesAsync(connectionId, 0, TimeSpan.FromSeconds(10));
        Assert.Equal(0, connection.GetProperty("attaches").GetProperty("live").GetInt32());
        Assert.Equal(Cycles, connection.GetProperty("attaches").GetProperty("total").GetInt32());
    }

    [Fact(Timeout = 120_000)]
    public async Task A_hundred_raw_page_level_attach_detach_cycles_all_succeed()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var (connectionId, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(100));
        var (list, _) = await DataPlane.GetDiscoveryAsync(endpoint, "json/list", timeout.Token);
        Uri pageSocket;
        using (list)
        {
            var page = list.RootElement.EnumerateArray().First(e => e.GetProperty("type").GetString() == "page");
            pageSocket = new Uri(page.GetProperty("webSocketDebuggerUrl").GetString()!);
        }

        for (var cycle = 0; cycle < Cycles; cycle++)
        {
            await using var socket = await CdpSocket.ConnectAsync(pageSocket, timeout.Token);
            Assert.Equal(cycle, (await socket.EvaluateAsync($"{cycle}", timeout.Token)).GetInt32());
            await socket.CloseAsync(timeout.Token);
        }

        var connection = await relay.WaitForLiveAttachesAsync(connectionId, 0, TimeSpan.FromSeconds(10));
        Assert.Equal(0, connection.GetProperty("attaches").GetProperty("live").GetInt32());
        Assert.Equal(Cycles, connection.GetProperty("attaches").GetProperty("total").GetInt32());
    }
}
