using System.Net;
using Bctrl.Relay.EndToEndTests.Infrastructure;
using Bctrl.Relay.Testing;
using PuppeteerSharp;

namespace Bctrl.Relay.EndToEndTests.Observation;

/// <summary>
/// Issue 4, redaction: a run that types a canary string and sets a canary cookie never shows either in any record,
/// whether parameters are stored or not; and the lease token appears in no record, no metric, no log line and no error
/// body. The canaries are checked on the wire too, so the test knows they did pass through the relay.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class RedactionTests(ChromiumFixture fixture)
{
    private const string TypedCanary = "tYpEd-c4n4ry-91f3";
    private const string InsertedCanary = "iNsErTeD-c4n4ry-7a2e";
    private const string CookieCanary = "c00kie-c4n4ry-5d8b";

    [Theory(Timeout = 120_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Typed_text_a_cookie_and_the_lease_token_appear_in_no_record_metric_log_or_error_body(bool storeParams)
    {
        await using var relay = await Relays.StartAsync(fixture, settings: new Dictionary<string, string?>
        {
            ["Relay:Observation:StoreParams"] = storeParams ? "true" : "false",
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
        });
        await using var proxy = new CountingProxy(relay.BaseUrl);
        var (connectionId, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        var token = endpoint.Segments[^1];
        var page = fixture.Site.Noise(61);

        IBrowser? browser = null;
        IPage? tab = null;
        try
        {
            browser = await PuppeteerClient.ConnectAsync(proxy.Through(endpoint));
            tab = await browser.NewPageAsync();
            Assert.True((await tab.GoToAsync(page.AbsoluteUri)).Ok);
            await tab.EvaluateExpressionAsync("document.body.insertAdjacentHTML('afterbegin', '<input id=\"canary\" autocomplete=\"off\">')");
            await tab.FocusAsync("#canary");
            await tab.Keyboard.TypeAsync(TypedCanary);
            await tab.Keyboard.SendCharacterAsync(InsertedCanary);
            Assert.Equal(TypedCanary + InsertedCanary, await tab.EvaluateExpressionAsync<string>("document.getElementById('canary').value"));

            await tab.SetCookieAsync(new CookieParam { Name = "bctrl_canary", Value = CookieCanary, Url = page.AbsoluteUri });
            Assert.Contains(await tab.GetCookiesAsync(page.AbsoluteUri), c => c.Value == CookieCanary);
            Assert.Contains(CookieCanary, await tab.EvaluateExpressionAsync<string>("document.cookie"), StringComparison.Ordinal);
        }
        finally
        {
            await PuppeteerClient.ReleaseAsync(browser, tab);
        }

        var socket = Assert.Single(proxy.Connections);
        await socket.Completion.WaitAsync(TimeSpan.FromSeconds(20));
        await RunRecord.WaitForClosedAttachAsync(relay, Relays.RuntimeId, connectionId);

        // Error bodies under the token: refused once the lease is deleted, and a forged one.
        await relay.DeleteConnectionAsync(Relays.RuntimeId, connectionId);
        var errorBodies = new List<string>();
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (status, code, body) = await DataPlane.TryUpgradeAsync(endpoint, cancellation.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("lease_revoked", code);
        errorBodies.Add(body);
        using (var discovery = await DataPlane.Http.GetAsync($"{DataPlane.HttpForm(endpoint).AbsoluteUri}/json/version", cancellation.Token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, discovery.StatusCode);
            errorBodies.Add(await discovery.Content.ReadAsStringAsync(cancellation.Token));
        }

        var forged = new Uri(endpoint.AbsoluteUri[..^3] + (endpoint.AbsoluteUri[^3] == 'A' ? "B" : "A") + endpoint.AbsoluteUri[^2..]);
        var (forgedStatus, _, forgedBody) = await DataPlane.TryUpgradeAsync(forged, cancellation.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, forgedStatus);
        errorBodies.Add(forgedBody);

        var (records, recordText) = await RunRecord.ReadUntilAsync(relay, Relays.RuntimeId, r => r.Type == "attach.closed");
        var metrics = await relay.Http.GetStringAsync("metrics", cancellation.Token);
        var logs = string.Join("\n", relay.Logs.Lines);

        // The canaries did cross the relay, whole, in the client's commands.
        var sent = string.Join("\n", WireFrame.TextMessages(socket.FramesFromClient));
        Assert.Contains(InsertedCanary, sent, StringComparison.Ordinal);
        Assert.Contains(CookieCanary, sent, StringComparison.Ordinal);
        Assert.Contains(records, r => r.Method == "Input.insertText");
        Assert.Contains(records, r => r.Method == "Input.dispatchKeyEvent");
        Assert.Contains(records, r => r.Method is "Network.setCookies" or "Storage.setCookies" or "Network.setCookie");
        Assert.Contains("bctrl_relay_", metrics, StringComparison.Ordinal);
        Assert.True(logs.Length > 0);

        var secrets = new Dictionary<string, string>
        {
            ["the typed canary"] = TypedCanary,
            ["the inserted canary"] = InsertedCanary,
            ["the cookie canary"] = CookieCanary,
        };
        foreach (var (what, secret) in secrets)
        {
            Assert.False(
                recordText.Contains(secret, StringComparison.Ordinal),
                $"{what} is in the record of the run: {string.Join("\n", records.Where(r => r.RawData.Contains(secret, StringComparison.Ordinal)))}");
            Assert.False(logs.Contains(secret, StringComparison.Ordinal), $"{what} is in a log line");
            Assert.False(metrics.Contains(secret, StringComparison.Ordinal), $"{what} is in /metrics");
        }

        // Typing goes one key at a time: no key event's text may be stored either.
        foreach (var key in records.Where(r => r.Method is "Input.dispatchKeyEvent" or "Input.insertText"))
        {
            var parameters = key.Data.TryGetProperty("params", out var p) ? p.GetString() : null;
            Assert.True(parameters is null || parameters.StartsWith("{\"redacted\":true,", StringComparison.Ordinal), $"stored: {key.RawData}");
        }

        // With parameters stored, the harmless ones are there (so the switch works), and without, none are.
        var stored = records.Where(r => r.Data.TryGetProperty("params", out _)).ToArray();
        if (storeParams)
        {
            Assert.Contains(stored, r => r.Method == "Page.navigate" && r.Data.GetProperty("params").GetString()!.Contains(page.AbsoluteUri, StringComparison.Ordinal));
        }
        else
        {
            Assert.Empty(stored);
        }

        var tokenParts = new Dictionary<string, string> { ["the lease token"] = token, ["the token's MAC"] = token.Split('.')[^1], ["the token's claims"] = token.Split('.')[2] };
        foreach (var (what, secret) in tokenParts)
        {
            Assert.True(secret.Length >= 16, $"{what} is too short to look for");
            Assert.False(recordText.Contains(secret, StringComparison.Ordinal), $"{what} is in the record of the run");
            Assert.False(metrics.Contains(secret, StringComparison.Ordinal), $"{what} is on /metrics");
            Assert.False(logs.Contains(secret, StringComparison.Ordinal), $"{what} is in a log line");
            Assert.All(errorBodies, b => Assert.False(b.Contains(secret, StringComparison.Ordinal), $"{what} is in an error body: {b}"));
        }

        Assert.Equal(3, errorBodies.Count(b => b.Contains("\"error\"", StringComparison.Ordinal)));
    }
}
