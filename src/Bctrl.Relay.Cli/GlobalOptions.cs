using System.CommandLine;

namespace Bctrl.Relay.Cli;

/// <summary>The options every command takes.</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Url { get; } = new("--url")
    {
        Description = $"The relay's control API, like {CliContext.DefaultUrl} (default: ${CliContext.UrlVariable}, else {CliContext.DefaultUrl})",
        Recursive = true,
    };

    public Option<string?> Key { get; } = new("--key")
    {
        Description = $"The control API key (default: ${CliContext.KeyVariable}; prefer the variable, a flag shows in the process list)",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print JSON for scripts instead of tables",
        Recursive = true,
    };
}
