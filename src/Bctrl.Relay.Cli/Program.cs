using System.CommandLine;
using System.CommandLine.Invocation;

namespace Bctrl.Relay.Cli;

/// <summary>
/// <c>bctrl-relay</c>: the control API from a shell (docs/client.md). Every failure is one line on stderr,
/// <c>error: &lt;code&gt;: &lt;message&gt;</c>, and exit code 1; never a stack trace.
/// </summary>
internal static class Program
{
    public static Task<int> Main(string[] args) => RunAsync(args, CliHost.FromConsole());

    /// <summary>Runs one command line against the process's environment, writing to the given writers.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
        => RunAsync(args, new CliHost(stdout, stderr, IsOutputRedirected: false, Environment.GetEnvironmentVariable, HandlesSignals: false));

    public static async Task<int> RunAsync(string[] args, CliHost host, CancellationToken cancellationToken = default)
    {
        var parse = CliCommands.Build(host).Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is ParseErrorAction)
        {
            CliCommands.WriteError(host, "usage", $"{parse.Errors[0].Message} (see bctrl-relay --help)");
            return 1;
        }

        var invocation = new InvocationConfiguration
        {
            Output = host.Out,
            Error = host.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = host.HandlesSignals ? TimeSpan.FromSeconds(2) : null,
        };
        return await parse.InvokeAsync(invocation, cancellationToken);
    }
}
