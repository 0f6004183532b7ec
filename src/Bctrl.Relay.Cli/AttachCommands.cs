using System.CommandLine;
using System.Text.Json;
using Bctrl.Relay.Client.Http;

namespace Bctrl.Relay.Cli;

/// <summary><c>attaches &lt;runtime&gt; &lt;connection&gt;</c>: each attach's recording metadata.</summary>
internal static class AttachCommands
{
    public static Command Build(CliHost host, GlobalOptions options)
    {
        var runtime = ConnectionCommands.RuntimeArgument();
        var connection = ConnectionCommands.ConnectionArgument();
        var attaches = new Command("attaches", "List the attaches made with a connection: when, how they ended, what they moved") { runtime, connection };
        attaches.Handle(host, options, async (context, cancellationToken) =>
        {
            using var relay = context.Connect();
            var id = CliContext.ConnectionId(context.Parse.GetValue(connection)!);
            var records = await relay.Runtimes[context.Parse.GetValue(runtime)!].Connections.ListAttachesAsync(id, cancellationToken);
            if (context.Json)
            {
                context.Out.WriteLine(JsonSerializer.Serialize(records, ClientJson.Default.IReadOnlyListAttachRecord));
                return;
            }

            var table = new Table("ATTACH", "OPENED", "CLOSED", "REASON", "BY", "CLIENT MSGS", "RUNTIME MSGS", "CLIENT BYTES", "RUNTIME BYTES", "USER AGENT");
            foreach (var r in records)
            {
                table.Add(
                    Table.Number(r.AttachId),
                    Table.Time(r.OpenedAt),
                    Table.Time(r.ClosedAt),
                    r.Reason ?? "live",
                    r.ClosedBy,
                    Table.Number(r.MessagesFromClient),
                    Table.Number(r.MessagesFromRuntime),
                    Table.Number(r.BytesFromClient),
                    Table.Number(r.BytesFromRuntime),
                    r.UserAgent);
            }

            table.WriteTo(context.Out);
        });
        return attaches;
    }
}
