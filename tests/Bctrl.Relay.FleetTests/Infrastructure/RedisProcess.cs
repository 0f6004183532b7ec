using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FleetTests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, without persistence, in its own temporary directory. It can be
/// stopped and started again on the same port (empty: nothing is saved), paused (SIGSTOP) and resumed (SIGCONT).
/// </summary>
public sealed class RedisProcess : IAsyncDisposable
{
    public const string ServerPath = "/usr/bin/redis-server";
    public const string CliPath = "/usr/bin/redis-cli";

    private readonly string[] _extraArgs;
    private Process? _process;

    private RedisProcess(int port, string directory, string[] extraArgs)
    {
        Port = port;
        Directory = directory;
        _extraArgs = extraArgs;
    }

    public int Port { get; }

    public string Directory { get; }

    /// <summary>The StackExchange.Redis configuration string of this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    public bool IsRunning => _process is { HasExited: false };

    public static Task<RedisProcess> StartAsync(params string[] extraArgs) => StartOnAsync(Loopback.FreePort(), extraArgs);

    public static async Task<RedisProcess> StartOnAsync(int port, params string[] extraArgs)
    {
        if (!File.Exists(ServerPath) || !File.Exists(CliPath))
        {
            throw new InvalidOperationException($"The fleet tests need {ServerPath} and {CliPath}: apt-get install redis-server redis-tools");
        }

        var directory = Path.Combine(Path.GetTempPath(), "bctrl-redis-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var redis = new RedisProcess(port, directory, extraArgs);
        await redis.StartAgainAsync();
        return redis;
    }

    /// <summary>Starts the server (again) on its port and waits until it answers PING.</summary>
    public async Task StartAgainAsync()
    {
        var info = new ProcessStartInfo(ServerPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Directory,
        };
        foreach (var arg in (string[])["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", string.Empty, "--appendonly", "no", "--dir", Directory, "--daemonize", "no", "--loglevel", "warning", .. _extraArgs])
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((await CliAsync("PING")).Trim() != "PONG")
        {
            if (DateTime.UtcNow > deadline || _process.HasExited)
            {
                throw new InvalidOperationException($"redis-server on port {Port} did not start.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Kills the server (SIGKILL: no save, no goodbye to clients) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    public Task PauseAsync() => SignalAsync("STOP");

    public Task ResumeAsync() => SignalAsync("CONT");

    /// <summary>Runs <c>redis-cli -p PORT args…</c> and returns what it printed.</summary>
    public Task<string> CliAsync(params string[] args) => RunAsync(CliPath, ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. args]);

    public static async Task<string> RunAsync(string path, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(timeout.Token);
        return await output + await error;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                await SignalAsync("CONT");
                process.Kill();
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held; the temp directory is cleaned up eventually.
        }
    }

    private async Task SignalAsync(string signal)
    {
        if (_process is { HasExited: false } process)
        {
            await RunAsync("/bin/kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
    }
}
