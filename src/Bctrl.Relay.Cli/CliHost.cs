namespace Bctrl.Relay.Cli;

/// <summary>What a run of the CLI sees of its process: the two writers, whether stdout is a pipe or a file, the
/// environment, and whether it owns Ctrl+C. Tests run the CLI in process with writers and an environment of their own.</summary>
internal sealed record CliHost(
    TextWriter Out, TextWriter Error, bool IsOutputRedirected, Func<string, string?> Environment, bool HandlesSignals)
{
    public static CliHost FromConsole()
        => new(Console.Out, Console.Error, Console.IsOutputRedirected, System.Environment.GetEnvironmentVariable, HandlesSignals: true);
}
