using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Bctrl.Relay.FunctionalTests.Operations;

/// <summary>
/// <c>dotnet Bctrl.Relay.dll</c> (the build beside the tests) as an operator runs it: its own arguments and environment,
/// nothing of the test keys unless given, stdout and stderr kept apart. Disposing it kills it.
/// </summary>
internal sealed class RelayCommand : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();

    private RelayCommand(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Add(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Add(_stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public IReadOnlyList<string> Stdout => [.. _stdout];

    public IReadOnlyList<string> Stderr => [.. _stderr];

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts the relay with <paramref name="arguments"/> and <paramref name="environment"/> (a null value removes the
    /// variable). <c>ASPNETCORE_*</c> and <c>Relay__*</c> variables of the test process are removed first.
    /// </summary>
    public static RelayCommand Start(IEnumerable<string> arguments, IDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Bctrl.Relay.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("Relay__", StringComparison.Ordinal)).ToArray())
        {
            start.Environment.Remove(name);
        }

        start.Environment["Relay__DevRuntime__Enabled"] = "false";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        return new RelayCommand(Process.Start(start)!);
    }

    /// <summary>Runs the relay to its exit (at most 20 s) and returns its exit code.</summary>
    public static async Task<(int ExitCode, IReadOnlyList<string> Stdout, IReadOnlyList<string> Stderr)> RunAsync(
        IEnumerable<string> arguments, IDictionary<string, string?>? environment = null)
    {
        await using var relay = Start(arguments, environment);
        var code = await relay.WaitForExitAsync(TimeSpan.FromSeconds(20));
        return (code, relay.Stdout, relay.Stderr);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        _process.WaitForExit(); // the last lines of output have been read
        return _process.ExitCode;
    }

    /// <summary>Stops the relay as an orchestrator does (SIGTERM) and returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])!)
        {
            await kill.WaitForExitAsync();
        }

        return await WaitForExitAsync(TimeSpan.FromSeconds(20));
    }

    public async ValueTask DisposeAsync()
    {
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

    private static void Add(ConcurrentQueue<string> lines, string? line)
    {
        if (line is not null && lines.Count < 10_000)
        {
            lines.Enqueue(line);
        }
    }
}
