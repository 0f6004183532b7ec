using System.Diagnostics;

namespace Bctrl.Relay.DevRuntime;

/// <summary>
/// A headless Chromium started with a DevTools port on loopback, for the embedded default's runtime <c>local</c> and
/// for the end-to-end tests. Its browser WebSocket URL is read from the "DevTools listening on" line it prints.
/// </summary>
internal sealed class ChromiumProcess : IAsyncDisposable
{
    private static readonly string[] Candidates = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

    private readonly Process _process;
    private readonly string _profile;

    private ChromiumProcess(Process process, string profile, Uri browserUrl)
    {
        _process = process;
        _profile = profile;
        BrowserUrl = browserUrl;
    }

    /// <summary>Like <c>ws://127.0.0.1:PORT/devtools/browser/ID</c>.</summary>
    public Uri BrowserUrl { get; }

    public int ProcessId => _process.Id;

    /// <summary>Like <c>http://127.0.0.1:PORT</c>.</summary>
    public Uri HttpUrl => new($"http://{BrowserUrl.Authority}");

    /// <summary>The configured path, else the first Chromium on PATH; null when there is none.</summary>
    public static string? Find(string? configured = null)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return File.Exists(configured) ? configured : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in Candidates)
            {
                var candidate = Path.Combine(directory, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    public static async Task<ChromiumProcess> StartAsync(string executable, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var profile = Path.Combine(Path.GetTempPath(), "bctrl-relay-chromium-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(profile);
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };

        // The flags keep Chromium off the network it cannot reach here (updates, sync, field trials) and let it run
        // as root in a container; the DevTools port is picked by the OS and read back from stderr.
        foreach (var argument in (string[])[
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
            "--no-default-browser-check", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--mute-audio", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
            $"--user-data-dir={profile}", "about:blank"])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Chromium did not start.");
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            const string Marker = "DevTools listening on ";
            if (e.Data?.IndexOf(Marker, StringComparison.Ordinal) is >= 0 and var at)
            {
                listening.TrySetResult(new Uri(e.Data[(at + Marker.Length)..].Trim()));
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"Chromium exited with code {process.ExitCode} before listening."));
        process.EnableRaisingEvents = true;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        try
        {
            var url = await listening.Task.WaitAsync(timeout, cancellationToken);
            return new ChromiumProcess(process, profile, url);
        }
        catch
        {
            Kill(process);
            process.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill(_process);
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            // Left to the OS.
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // A profile file still held open; the temp folder is cleaned by the OS.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
