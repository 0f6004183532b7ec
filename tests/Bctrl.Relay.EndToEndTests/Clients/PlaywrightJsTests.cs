using System.Text.Json;
using Bctrl.Relay.EndToEndTests.Infrastructure;

namespace Bctrl.Relay.EndToEndTests.Clients;

/// <summary>
/// Playwright for JavaScript (<c>playwright-core</c> from <c>js/package-lock.json</c>) run by Node against the relay,
/// both URL forms. The dependency is installed by <c>npm ci --prefix tests/Bctrl.Relay.EndToEndTests/js</c>; without it
/// these tests fail and say so, never skip.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class PlaywrightJsTests(ChromiumFixture fixture)
{
    [Theory(Timeout = 120_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Playwright_js_connects_evaluates_and_screenshots(bool httpForm)
    {
        var script = NodeScripts.Find("connect.mjs", "playwright-core");
        await using var relay = await Relays.StartAsync(fixture);
        var (_, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        var seed = httpForm ? 62 : 61;
        var screenshotPath = Path.Combine(Path.GetTempPath(), $"bctrl-relay-e2e-{Guid.NewGuid():N}.png");
        try
        {
            var output = await NodeScripts.RunAsync(
                script,
                [(httpForm ? DataPlane.HttpForm(endpoint) : endpoint).AbsoluteUri, fixture.Site.Noise(seed).AbsoluteUri, screenshotPath],
                TimeSpan.FromSeconds(90));
            using var result = JsonDocument.Parse(output);
            var root = result.RootElement;
            Assert.Equal(TestSite.NoiseTitle(seed), root.GetProperty("title").GetString());
            Assert.Equal(seed, root.GetProperty("seed").GetInt32());
            Assert.True(root.GetProperty("scrollHeight").GetInt32() >= TestSite.NoiseHeight);
            Assert.False(string.IsNullOrEmpty(root.GetProperty("version").GetString()));

            var png = await File.ReadAllBytesAsync(screenshotPath);
            Assert.Equal(png.Length, root.GetProperty("screenshotBytes").GetInt32());
            Png.AssertFullPageNoise(png);
        }
        finally
        {
            File.Delete(screenshotPath);
        }
    }

    /// <summary>
    /// Issue 10: over <c>wss://</c> to a relay on <c>https://</c>, with a certificate from a test authority that Node
    /// trusts through <c>NODE_EXTRA_CA_CERTS</c>, as an operator's private CA would be trusted.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task Playwright_js_connects_over_wss_with_a_certificate_it_trusts()
    {
        var script = NodeScripts.Find("connect.mjs", "playwright-core");
        using var certificates = new Bctrl.Relay.Testing.TestCertificates();
        await using var relay = await Relays.StartAsync(fixture, tls: certificates);
        var (_, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        Assert.Equal("wss", endpoint.Scheme);
        const int seed = 63;
        var screenshotPath = Path.Combine(Path.GetTempPath(), $"bctrl-relay-e2e-{Guid.NewGuid():N}.png");
        try
        {
            var output = await NodeScripts.RunAsync(
                script,
                [endpoint.AbsoluteUri, fixture.Site.Noise(seed).AbsoluteUri, screenshotPath],
                TimeSpan.FromSeconds(90),
                ("NODE_EXTRA_CA_CERTS", certificates.AuthorityPath));
            using var result = JsonDocument.Parse(output);
            Assert.Equal(TestSite.NoiseTitle(seed), result.RootElement.GetProperty("title").GetString());
            Png.AssertFullPageNoise(await File.ReadAllBytesAsync(screenshotPath));
        }
        finally
        {
            File.Delete(screenshotPath);
        }
    }
}
