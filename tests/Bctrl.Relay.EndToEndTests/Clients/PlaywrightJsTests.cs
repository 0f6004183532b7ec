using System.Diagnostics;
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
    private const string InstallHint = "run `npm ci --prefix tests/Bctrl.Relay.EndToEndTests/js` from the repository root";

    [Theory(Timeout = 120_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Playwright_js_connects_evaluates_and_screenshots(bool httpForm)
    {
        var script = FindScript();
        await using var relay = await Relays.StartAsync(fixture);
        var (_, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        var seed = httpForm ? 62 : 61;
        var screenshotPath = Path.Combine(Path.GetTempPath(), $"bctrl-relay-e2e-{Guid.NewGuid():N}.png");
        try
        {
            var output = await RunNodeAsync(
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
        var script = FindScript();
        using var certificates = new Bctrl.Relay.Testing.TestCertificates();
        await using var relay = await Relays.StartAsync(fixture, tls: certificates);
        var (_, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        Assert.Equal("wss", endpoint.Scheme);
        const int seed = 63;
        var screenshotPath = Path.Combine(Path.GetTempPath(), $"bctrl-relay-e2e-{Guid.NewGuid():N}.png");
        try
        {
            var output = await RunNodeAsync(
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

    /// <summary><c>js/connect.mjs</c> of the source tree, checked to have its <c>node_modules</c> installed.</summary>
    private static string FindScript()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Bctrl.Relay.EndToEndTests.csproj")))
        {
            directory = directory.Parent;
        }

        Assert.True(directory is not null, $"Cannot find the test project's source folder above {AppContext.BaseDirectory}.");
        var js = Path.Combine(directory.FullName, "js");
        var package = Path.Combine(js, "node_modules", "playwright-core", "package.json");
        Assert.True(File.Exists(package), $"playwright-core is not installed at {Path.GetDirectoryName(package)}: {InstallHint}.");
        return Path.Combine(js, "connect.mjs");
    }

    private static async Task<string> RunNodeAsync(string script, string[] arguments, TimeSpan timeout, params (string Name, string Value)[] environment)
    {
        var node = FindOnPath("node");
        Assert.True(node is not null, $"`node` (Node.js 20 or later) is not on PATH; install it, then {InstallHint}.");
        var start = new ProcessStartInfo(node)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(script)!,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"node {Path.GetFileName(script)} did not finish in {timeout}; stderr: {await stderr}");
        }

        var output = await stdout;
        Assert.True(process.ExitCode == 0, $"node {Path.GetFileName(script)} exited with {process.ExitCode}; stdout: {output}; stderr: {await stderr}");
        return output.Trim();
    }

    private static string? FindOnPath(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
