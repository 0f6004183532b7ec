using System.Diagnostics;

namespace Bctrl.Relay.EndToEndTests.Infrastructure;

/// <summary>
/// The JavaScript clients under <c>js/</c> (Playwright, chrome-remote-interface), run by Node with a bounded time. The
/// dependencies come from <c>js/package-lock.json</c> (<c>npm ci</c>); without them a test fails and says so, never skips.
/// </summary>
internal static class NodeScripts
{
    private const string InstallHint = "run `npm ci --prefix tests/Bctrl.Relay.EndToEndTests/js` from the repository root";

    /// <summary><c>js/{script}</c> of the source tree, checked to have <paramref name="package"/> installed in its <c>node_modules</c>.</summary>
    public static string Find(string script, string package)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Bctrl.Relay.EndToEndTests.csproj")))
        {
            directory = directory.Parent;
        }

        Assert.True(directory is not null, $"Cannot find the test project's source folder above {AppContext.BaseDirectory}.");
        var js = Path.Combine(directory.FullName, "js");
        var manifest = Path.Combine(js, "node_modules", package, "package.json");
        Assert.True(File.Exists(manifest), $"{package} is not installed at {Path.GetDirectoryName(manifest)}: {InstallHint}.");
        return Path.Combine(js, script);
    }

    public static async Task<string> RunAsync(string script, string[] arguments, TimeSpan timeout, params (string Name, string Value)[] environment)
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
