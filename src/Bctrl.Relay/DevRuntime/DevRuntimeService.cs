using Bctrl.Relay.Options;
using Bctrl.Relay.State;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.DevRuntime;

/// <summary>
/// The embedded default's runtime: in Development (or when <c>Relay:DevRuntime:Chromium</c> names one), start a
/// headless Chromium and register it as runtime <c>local</c>, so a newcomer has something to attach to.
/// </summary>
internal sealed class DevRuntimeService(
    IOptions<RelayOptions> options,
    IHostEnvironment environment,
    IRuntimeStore runtimes,
    TimeProvider time,
    ILogger<DevRuntimeService> logger) : IHostedService
{
    public const string RuntimeId = "local";

    private ChromiumProcess? _chromium;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value.DevRuntime;
        if (!settings.Enabled || (settings.Chromium is null && !environment.IsDevelopment()))
        {
            return;
        }

        var executable = ChromiumProcess.Find(settings.Chromium);
        if (executable is null)
        {
            RelayLog.DevRuntimeFailed(logger, "no Chromium found (set Relay:DevRuntime:Chromium)");
            return;
        }

        try
        {
            _chromium = await ChromiumProcess.StartAsync(executable, TimeSpan.FromSeconds(30), cancellationToken);
            await runtimes.PutAsync(new RuntimeRecord(RuntimeId, _chromium.BrowserUrl, time.GetUtcNow()), cancellationToken);
            RelayLog.DevRuntimeStarted(logger, _chromium.ProcessId, RuntimeId);
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            RelayLog.DevRuntimeFailed(logger, exception.Message);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }
    }
}
