using System.Text.Json;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.EndToEndTests.Infrastructure;

/// <summary>Starts a relay (one per test) in front of the collection's Chromium, registered as runtime <see cref="RuntimeId"/>.</summary>
internal static class Relays
{
    public const string RuntimeId = "chromium";

    /// <param name="fixture">The collection's Chromium.</param>
    /// <param name="httpCdpUrl">Register the runtime by its <c>http://</c> debugging address (resolved through
    /// <c>/json/version</c> at attach time) instead of its browser <c>ws://</c> URL.</param>
    /// <param name="settings">Extra relay configuration, like <c>Relay:KeepAlive:Interval</c>.</param>
    /// <param name="tls">Listen on <c>https://</c> with a certificate for 127.0.0.1 from this test authority (its
    /// endpoint URLs are then <c>wss://</c>).</param>
    public static async Task<RelayServer> StartAsync(ChromiumFixture fixture, bool httpCdpUrl = false, IDictionary<string, string?>? settings = null, TestCertificates? tls = null)
    {
        var values = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>());
        if (tls is not null)
        {
            tls.Issue("relay", ["127.0.0.1", "localhost"], "relay").Dispose();
            values["urls"] = "https://127.0.0.1:0";
            values["Relay:Tls:CertificatePath"] = tls.CertificatePath("relay");
            values["Relay:Tls:KeyPath"] = tls.KeyPath("relay");
        }

        var relay = await RelayServer.StartAsync(values, tls);
        try
        {
            await relay.PutRuntimeAsync(RuntimeId, httpCdpUrl ? fixture.Chromium.HttpUrl : fixture.Chromium.BrowserUrl);
            return relay;
        }
        catch
        {
            await relay.DisposeAsync();
            throw;
        }
    }

    /// <summary>The connection as the control API describes it (state, attach counts).</summary>
    public static async Task<JsonElement> GetConnectionAsync(this RelayServer relay, string connectionId)
    {
        using var response = await relay.Http.GetAsync($"v1/runtimes/{RuntimeId}/connections/{connectionId}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET connection answered {(int)response.StatusCode}: {text}");
        using var json = JsonDocument.Parse(text);
        return json.RootElement.Clone();
    }

    /// <summary>Polls the connection until its live attach count is <paramref name="live"/> (closes are recorded just after the socket ends).</summary>
    public static async Task<JsonElement> WaitForLiveAttachesAsync(this RelayServer relay, string connectionId, int live, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var connection = await relay.GetConnectionAsync(connectionId);
            if (connection.GetProperty("attaches").GetProperty("live").GetInt32() == live || DateTime.UtcNow > deadline)
            {
                return connection;
            }

            await Task.Delay(50);
        }
    }
}
