using Bctrl.Relay.DevRuntime;

namespace Bctrl.Relay.EndToEndTests.Infrastructure;

/// <summary>
/// One real headless Chromium (the relay's own <see cref="ChromiumProcess"/>, flags and all) and the test site its pages
/// load, started once for the collection and disposed after it. Each test starts its own relay in front of them.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    /// <summary>The Debian package's binary; <c>BCTRL_E2E_CHROMIUM</c> overrides it, else the first Chromium on PATH.</summary>
    private const string DefaultChromium = "/usr/bin/chromium";

    private ChromiumProcess? _chromium;
    private TestSite? _site;

    internal ChromiumProcess Chromium => _chromium ?? throw new InvalidOperationException("The fixture is not initialised.");

    internal TestSite Site => _site ?? throw new InvalidOperationException("The fixture is not initialised.");

    public async Task InitializeAsync()
    {
        var configured = Environment.GetEnvironmentVariable("BCTRL_E2E_CHROMIUM");
        var executable = ChromiumProcess.Find(string.IsNullOrEmpty(configured) && File.Exists(DefaultChromium) ? DefaultChromium : configured)
            ?? throw new InvalidOperationException(
                $"No Chromium found (looked at {configured ?? DefaultChromium} and PATH). The end-to-end tests need one: apt-get install chromium, or set BCTRL_E2E_CHROMIUM.");
        _chromium = await ChromiumProcess.StartAsync(executable, TimeSpan.FromSeconds(30));
        try
        {
            _site = await TestSite.StartAsync();
        }
        catch
        {
            // xunit does not dispose a fixture whose initialisation failed: the browser must not outlive the run.
            await _chromium.DisposeAsync();
            _chromium = null;
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_site is not null)
        {
            await _site.DisposeAsync();
        }

        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }
    }
}
