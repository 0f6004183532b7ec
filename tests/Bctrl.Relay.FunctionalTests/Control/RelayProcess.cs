using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary>
/// The relay as a process of its own (the build output next to the tests), with the real console logger and the test
/// keys, on a free loopback port: for what only the real providers show. Its output is kept line by line.
/// </summary>
internal sealed class RelayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private RelayProcess(Process process, Uri baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public static async Task<RelayProcess> StartAsync(IEnumerable<string> arguments)
    {
        var port = FreePort();
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])
        [
            Path.Combine(AppContext.BaseDirectory, "Bctrl.Relay.dll"),
            "--urls", $"http://127.0.0.1:{port}",
            "--environment", "Testing",
            $"--Relay:ControlApiKey={RelayServer.ControlKey}",
            "--Relay:SigningKeys:0:Id=test",
            $"--Relay:SigningKeys:0:Secret={RelayServer.SigningSecret}",
            "--Relay:DevRuntime:Enabled=false",
            .. arguments,
        ])
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var relay = new RelayProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, e) => relay.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => relay.Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await relay.WaitUntilHealthyAsync();
            return relay;
        }
        catch
        {
            await relay.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the relay as an orchestrator does (SIGTERM) and returns everything it wrote.</summary>
    public async Task<string[]> StopAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
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
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    private async Task WaitUntilHealthyAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(_process.HasExited, $"The relay exited with {(_process.HasExited ? _process.ExitCode : 0)}: {string.Join('\n', _output)}");
            try
            {
                using var response = await http.GetAsync("healthz");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), $"The relay did not answer /healthz in 30 s: {string.Join('\n', _output)}");
            await Task.Delay(100);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
