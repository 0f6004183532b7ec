using System.CommandLine;
using Bctrl.Relay.Client;

namespace Bctrl.Relay.Cli;

/// <summary>The command tree, and the one place a command's failure becomes <c>error: &lt;code&gt;: &lt;message&gt;</c>.</summary>
internal static class CliCommands
{
    public static RootCommand Build(CliHost host)
    {
        var options = new GlobalOptions();
        var root = new RootCommand("bctrl-relay: runtimes, connections (leases), events, attaches and artifacts of a Bctrl.Relay.");
        root.Options.Add(options.Url);
        root.Options.Add(options.Key);
        root.Options.Add(options.Json);
        root.Subcommands.Add(RuntimeCommands.Build(host, options));
        root.Subcommands.Add(ConnectionCommands.Build(host, options));
        root.Subcommands.Add(EventCommands.Build(host, options));
        root.Subcommands.Add(AttachCommands.Build(host, options));
        root.Subcommands.Add(ArtifactCommands.Build(host, options));
        return root;
    }

    /// <summary>Runs <paramref name="action"/> as the command's action: 0 when it returns, 1 with one line on stderr
    /// when it fails, 130 when interrupted.</summary>
    public static void Handle(this Command command, CliHost host, GlobalOptions options, Func<CliContext, CancellationToken, Task> action)
        => command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                await action(new CliContext(parse, host, options), cancellationToken);
                return 0;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 130;
            }
            catch (RelayApiException exception)
            {
                WriteError(host, exception.Code, exception.Message);
            }
            catch (CliException exception)
            {
                WriteError(host, exception.Code, exception.Message);
            }
            catch (HttpRequestException exception)
            {
                WriteError(host, "unreachable", exception.Message);
            }
            catch (TaskCanceledException)
            {
                WriteError(host, "timeout", "The relay did not answer in time.");
            }
#pragma warning disable CA1031 // The CLI's contract: any failure is one line and exit code 1, never a stack trace.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                WriteError(host, "failed", exception.Message);
            }

            return 1;
        });

    public static void WriteError(CliHost host, string code, string message)
        => host.Error.WriteLine($"error: {code}: {message.ReplaceLineEndings(" ")}");
}
