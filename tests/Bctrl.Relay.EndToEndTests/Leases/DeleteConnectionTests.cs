using System.Net;
using System.Net.WebSockets;
using Bctrl.Relay.EndToEndTests.Infrastructure;
using PuppeteerSharp;

namespace Bctrl.Relay.EndToEndTests.Leases;

/// <summary>
/// docs/design.md §1: once a connection is deleted its endpoint accepts no new attach; <c>terminate=true</c> also cuts the live
/// ones — only that connection's.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class DeleteConnectionTests(ChromiumFixture fixture)
{
    private const int CloseLeaseTerminated = 4001;

    [Fact(Timeout = 120_000)]
    public async Task Delete_refuses_new_attaches_while_the_live_one_keeps_working()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var (connectionId, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));

        IBrowser? browser = null;
        IPage? page = null;
        IPage? later = null;
        try
        {
            browser = await PuppeteerClient.ConnectAsync(endpoint);
            page = await browser.NewPageAsync();
            await page.GoToAsync(fixture.Site.Noise(41).AbsoluteUri);
            Assert.Equal(TestSite.NoiseTitle(41), await page.EvaluateExpressionAsync<string>("document.title"));
            var (_, pageSocket, _, _) = await DataPlane.FindPageAsync(endpoint, fixture.Site.Noise(41), timeout.Token);

            await relay.DeleteConnectionAsync(Relays.RuntimeId, connectionId);

            // A new attach: the raw upgrade gets a real 401 with the reason, before any 101.
            var (status, code, body) = await DataPlane.TryUpgradeAsync(endpoint, timeout.Token);
            Assert.True(status == HttpStatusCode.Unauthorized, $"Expected 401, got {(int)status}: {body}");
            Assert.Equal("lease_revoked", code);

            // The page-level form and the discovery documents are under the same lease.
            var (pageStatus, pageCode, _) = await DataPlane.TryUpgradeAsync(pageSocket, timeout.Token);
            Assert.Equal(HttpStatusCode.Unauthorized, pageStatus);
            Assert.Equal("lease_revoked", pageCode);
            using (var discovery = await DataPlane.Http.GetAsync($"{DataPlane.HttpForm(endpoint).AbsoluteUri}/json/version", timeout.Token))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, discovery.StatusCode);
                Assert.Contains("\"lease_revoked\"", await discovery.Content.ReadAsStringAsync(timeout.Token), StringComparison.Ordinal);
            }

            // And a client library's connect fails.
            using var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(endpoint, timeout.Token));
            Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => PuppeteerClient.ConnectAsync(endpoint));
            Assert.Contains("401", refused.ToString(), StringComparison.Ordinal);

            // The live attach still relays: evaluate, navigate, and a browser-level command.
            Assert.Equal(42, await page.EvaluateExpressionAsync<int>("6 * 7"));
            await page.GoToAsync(fixture.Site.Noise(42).AbsoluteUri);
            Assert.Equal(TestSite.NoiseTitle(42), await page.EvaluateExpressionAsync<string>("document.title"));
            later = await browser.NewPageAsync();
            Assert.Equal(2, await later.EvaluateExpressionAsync<int>("1 + 1"));
            Assert.True(browser.IsConnected);

            var connection = await relay.GetConnectionAsync(connectionId);
            Assert.Equal("deleted", connection.GetProperty("state").GetString());
            Assert.Equal(1, connection.GetProperty("attaches").GetProperty("live").GetInt32());
        }
        finally
        {
            await PuppeteerClient.ReleaseAsync(browser, page, later);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Delete_with_terminate_closes_the_live_clients_of_that_connection_only()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var (connectionId, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        var (otherId, otherEndpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));

        IBrowser? browser = null;
        IBrowser? bystander = null;
        try
        {
            browser = await PuppeteerClient.ConnectAsync(endpoint);
            bystander = await PuppeteerClient.ConnectAsync(otherEndpoint);
            var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            browser.Disconnected += (_, _) => disconnected.TrySetResult();
            Assert.Contains("Chrome", await browser.GetVersionAsync(), StringComparison.Ordinal);

            // A second live attach of the same connection, a raw browser-level socket: it must be cut too.
            await using var raw = await CdpSocket.ConnectAsync(endpoint, timeout.Token);
            await raw.SendAsync("Browser.getVersion", null, timeout.Token);
            await relay.WaitForLiveAttachesAsync(connectionId, 2, TimeSpan.FromSeconds(10));

            await relay.DeleteConnectionAsync(Relays.RuntimeId, connectionId, terminate: true);

            await disconnected.Task.WaitAsync(TimeSpan.FromSeconds(15), timeout.Token);
            Assert.False(browser.IsConnected);
            Assert.True(await raw.WaitForCloseAsync(TimeSpan.FromSeconds(15)), "The raw attach was not closed by terminate.");
            Assert.Equal((WebSocketCloseStatus)CloseLeaseTerminated, raw.CloseStatus);

            var (status, code, body) = await DataPlane.TryUpgradeAsync(endpoint, timeout.Token);
            Assert.True(status == HttpStatusCode.Unauthorized, $"Expected 401, got {(int)status}: {body}");
            Assert.Equal("lease_revoked", code);
            var connection = await relay.WaitForLiveAttachesAsync(connectionId, 0, TimeSpan.FromSeconds(10));
            Assert.Equal(0, connection.GetProperty("attaches").GetProperty("live").GetInt32());
            Assert.Equal(2, connection.GetProperty("attaches").GetProperty("total").GetInt32());

            // Another connection to the same runtime is untouched.
            Assert.True(bystander.IsConnected);
            Assert.Contains("Chrome", await bystander.GetVersionAsync(), StringComparison.Ordinal);
            var other = await relay.GetConnectionAsync(otherId);
            Assert.Equal("active", other.GetProperty("state").GetString());
            Assert.Equal(1, other.GetProperty("attaches").GetProperty("live").GetInt32());
        }
        finally
        {
            await PuppeteerClient.ReleaseAsync(browser);
            await PuppeteerClient.ReleaseAsync(bystander);
        }
    }
}
