using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Hostile;

/// <summary>
/// The relay as a process of its own, started through <c>prlimit</c> with a lowered file limit: what happens to a node
/// out of descriptors cannot be tried inside the test process. Disposing it kills it.
/// </summary>
internal sealed class RelayChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private RelayChildProcess(Process process, int port)
    {
        _process = process;
        BaseUrl = new Uri($"http://127.0.0.1:{port}/");
        Http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RelayServer.ControlKey);
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri BaseUrl { get; }

    public HttpClient Http { get; }

    public bool HasExited => _process.HasExited;

    public string Output => string.Join('\n', _output);

    /// <summary>Starts the relay built beside the tests with <paramref name="fileLimit"/> descriptors and waits until it is healthy.</summary>
    public static async Task<RelayChildProcess> StartAsync(int fileLimit, IDictionary<string, string>? settings = null)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("prlimit")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in (string[])[$"--nofile={fileLimit}:{fileLimit}", "--", "dotnet", Path.Combine(AppContext.BaseDirectory, "Bctrl.Relay.dll"),
                     "--urls", $"http://127.0.0.1:{port}", "--environment", "Testing"])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment["Relay__ControlApiKey"] = RelayServer.ControlKey;
        start.Environment["Relay__SigningKeys__0__Id"] = "test";
        start.Environment["Relay__SigningKeys__0__Secret"] = RelayServer.SigningSecret;
        start.Environment["Relay__DevRuntime__Enabled"] = "false";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var relay = new RelayChildProcess(Process.Start(start)!, port);
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                try
                {
                    using var response = await relay.Http.GetAsync("healthz");
                    if (response.IsSuccessStatusCode)
                    {
                        return relay;
                    }
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline && !relay.HasExited)
                {
                }

                if (relay.HasExited || DateTime.UtcNow > deadline)
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

    /// <summary>Descriptors the relay holds now (<c>/proc/PID/fd</c>).</summary>
    public int OpenDescriptors() => Directory.GetFiles($"/proc/{_process.Id}/fd").Length;

    /// <summary>CPU seconds the relay has used so far (utime + stime of <c>/proc/PID/stat</c>).</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / 100.0;
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
        if (line is not null && _output.Count < 2000)
        {
            _output.Enqueue(line);
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
