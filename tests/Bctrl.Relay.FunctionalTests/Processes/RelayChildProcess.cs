using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Processes;

/// <summary>
/// The relay as a process of its own (the build beside the tests, with the test keys), for what cannot be tried inside
/// the test process: a lowered file limit (started through <c>prlimit</c>), the real console logger, a SIGTERM.
/// Disposing it kills it.
/// </summary>
internal sealed class RelayChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private RelayChildProcess(Process process, int port, int managementPort)
    {
        _process = process;
        BaseUrl = new Uri($"http://127.0.0.1:{port}/");
        ManagementUrl = new Uri($"http://127.0.0.1:{managementPort}/");
        Http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = ManagementUrl, Timeout = TimeSpan.FromSeconds(10) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RelayServer.ControlKey);
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The data plane's listener.</summary>
    public Uri BaseUrl { get; }

    /// <summary>The management listener (<c>Relay:ManagementUrls</c>): control API, metrics, health.</summary>
    public Uri ManagementUrl { get; }

    /// <summary>A client of the control API on the management listener, already authorised.</summary>
    public HttpClient Http { get; }

    public bool HasExited => _process.HasExited;

    public string Output => string.Join('\n', _output);

    /// <summary>
    /// Starts the relay and waits until it is healthy: with <paramref name="fileLimit"/> descriptors when given, with
    /// <paramref name="settings"/> as environment variables and <paramref name="arguments"/> on its command line, and
    /// with a management listener of its own when <paramref name="management"/> is set (else <see cref="ManagementUrl"/>
    /// is <see cref="BaseUrl"/>). It runs on the transport <see cref="TestTransport"/> names unless the settings or
    /// arguments name one.
    /// </summary>
    public static async Task<RelayChildProcess> StartAsync(
        int? fileLimit = null, IDictionary<string, string>? settings = null, IEnumerable<string>? arguments = null, bool management = false)
    {
        // A free port is picked here and bound by the child a moment later: in between, another process may take it (a
        // relay of another test on port 0, an outbound connection's local port). The child then cannot listen and
        // exits, while a health check may reach whoever holds the port. So a start counts only once the child itself
        // has logged that it listens on its ports; one that exits before is tried again on other ports.
        for (var attempt = 1; ; attempt++)
        {
            var relay = await TryStartAsync(fileLimit, settings, arguments, management);
            if (relay is not null)
            {
                return relay;
            }

            if (attempt == 3)
            {
                throw new InvalidOperationException("The relay could not listen on a free port in three attempts.");
            }
        }
    }

    private static async Task<RelayChildProcess?> TryStartAsync(
        int? fileLimit, IDictionary<string, string>? settings, IEnumerable<string>? arguments, bool management)
    {
        var port = Loopback.FreePort();
        var managementPort = management ? Loopback.FreePort() : port;
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var start = new ProcessStartInfo(fileLimit is null ? dotnet : "prlimit")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        if (fileLimit is not null)
        {
            foreach (var argument in (string[])[$"--nofile={fileLimit}:{fileLimit}", "--", dotnet])
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in (string[])[Path.Combine(AppContext.BaseDirectory, "Bctrl.Relay.dll"), "--urls", $"http://127.0.0.1:{port}", "--environment", "Testing", .. arguments ?? []])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment["Relay__ControlApiKey"] = RelayServer.ControlKey;
        start.Environment["Relay__SigningKeys__0__Id"] = "test";
        start.Environment["Relay__SigningKeys__0__Secret"] = RelayServer.SigningSecret;
        start.Environment["Relay__DevRuntime__Enabled"] = "false";
        if (management)
        {
            start.Environment["Relay__ManagementUrls"] = $"http://127.0.0.1:{managementPort}";
        }
        var values = new Dictionary<string, string>(settings ?? new Dictionary<string, string>());
        TestTransport.ApplyTo(values, arguments);
        foreach (var (key, value) in values)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var relay = new RelayChildProcess(Process.Start(start)!, port, managementPort);
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            DateTime? healthySince = null;
            while (true)
            {
                if (relay.HasExited)
                {
                    if (relay.Output.Contains("cannot listen", StringComparison.Ordinal))
                    {
                        await relay.DisposeAsync();
                        return null; // a port was taken after it was picked: try others
                    }

                    throw new InvalidOperationException($"The relay did not start:\n{relay.Output}");
                }

                try
                {
                    using var response = await relay.Http.GetAsync("healthz");
                    healthySince ??= response.IsSuccessStatusCode ? DateTime.UtcNow : null;
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline)
                {
                }

                // Healthy, and this process is the one listening: it logged its ports (Kestrel's "Now listening on"),
                // or, with that log turned off, it has stayed up well past the point where a failed bind ends it.
                if (healthySince is { } since
                    && ((relay.Output.Contains($"127.0.0.1:{port}", StringComparison.Ordinal) && relay.Output.Contains($"127.0.0.1:{managementPort}", StringComparison.Ordinal))
                        || DateTime.UtcNow - since > TimeSpan.FromSeconds(3)))
                {
                    return relay;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"The relay did not start:\n{relay.Output}");
                }

                await Task.Delay(100);
            }
        }
        catch
        {
            await relay.DisposeAsync();
            throw;
        }
    }

    public async Task<Uri> CreateLeaseAsync(string runtimeId)
    {
        using var response = await Http.PostAsJsonAsync($"v1/runtimes/{runtimeId}/connections", new { protocol = "cdp" });
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return new Uri(json.RootElement.GetProperty("endpoint").GetProperty("url").GetString()!);
    }

    /// <summary>The value of one Prometheus series (summed over its labels) from the management listener's <c>/metrics</c>.</summary>
    public async Task<double> MetricAsync(string name)
    {
        var text = await Http.GetStringAsync("metrics");
        double sum = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] is ' ' or '{')
            {
                sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    /// <summary>Descriptors the relay holds now (<c>/proc/PID/fd</c>).</summary>
    public int OpenDescriptors() => _process.HasExited
        ? throw new InvalidOperationException($"The relay exited with {_process.ExitCode}:\n{Output}")
        : Directory.GetFiles($"/proc/{_process.Id}/fd").Length;

    /// <summary>CPU seconds the relay has used so far (utime + stime of <c>/proc/PID/stat</c>).</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / 100.0;
    }

    /// <summary>Stops the relay as an orchestrator does (SIGTERM) and returns everything it wrote.</summary>
    public async Task<string[]> StopAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])!)
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _process.WaitForExitAsync(timeout.Token);
        _process.WaitForExit(); // the last lines of output have been read
        return [.. _output];
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException)
        {
        }

        _process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is not null && _output.Count < 100_000)
        {
            _output.Enqueue(line);
        }
    }
}
