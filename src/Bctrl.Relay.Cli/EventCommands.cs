using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Bctrl.Relay.Client;
using Bctrl.Relay.Client.Http;

namespace Bctrl.Relay.Cli;

/// <summary><c>events tail</c>: a runtime's records as they happen, one line each, until Ctrl+C.</summary>
internal static class EventCommands
{
    public static Command Build(CliHost host, GlobalOptions options)
    {
        var events = new Command("events", "Read a runtime's records (attaches opening and closing, CDP traffic)");
        var runtime = ConnectionCommands.RuntimeArgument();
        var types = new Option<string[]>("--type")
        {
            Description = "Only these record types (repeat or comma-separate): attach.opened, attach.closed, cdp.command, cdp.result, cdp.event",
            AllowMultipleArgumentsPerToken = true,
        };
        var connection = new Option<string?>("--connection") { Description = "Only the records of this connection" };
        var after = new Option<string?>("--after") { Description = "Start after this record id (default: the oldest record kept)" };
        var tail = new Command("tail", "Follow a runtime's records until interrupted; reconnects where it left off") { runtime, types, connection, after };
        tail.Handle(host, options, async (context, cancellationToken) =>
        {
            var filter = new EventFilter
            {
                Types = context.Parse.GetValue(types)?.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
                ConnectionId = context.Parse.GetValue(connection) is { } id ? CliContext.ConnectionId(id) : null,
                After = context.Parse.GetValue(after),
            };
            using var relay = context.Connect();
            await foreach (var record in relay.Runtimes[context.Parse.GetValue(runtime)!].Events.StreamAsync(filter, cancellationToken))
            {
                context.Out.WriteLine(context.Json ? Json(record) : Line(record));
                await context.Out.FlushAsync(cancellationToken);
            }
        });
        events.Subcommands.Add(tail);
        return events;
    }

    /// <summary>The record as the relay sent it, plus its stream id as <c>eventId</c>: one JSON object a line.</summary>
    private static string Json(RelayEvent record)
    {
        var json = JsonSerializer.Serialize(record, ClientJson.Default.RelayEvent);
        return $"{{\"eventId\":{JsonSerializer.Serialize(record.Id, ClientJson.Default.String)},{json[1..]}";
    }

    /// <summary>Like <c>2026-12-03 13:45:01Z  cdp.result  0193…  #4  Page.navigate  id=7  12.5 ms</c>.</summary>
    private static string Line(RelayEvent record)
    {
        var line = new StringBuilder()
            .Append(Table.Time(record.Time)).Append("  ")
            .Append(record.Type.PadRight(13)).Append("  ")
            .Append(record.ConnectionId.ToString()).Append("  #")
            .Append(Table.Number(record.AttachId));
        if (record.Method is { } method)
        {
            line.Append("  ").Append(method);
        }

        if (record.CommandId is { } commandId)
        {
            line.Append("  id=").Append(Table.Number(commandId));
        }

        if (record.LatencyMs is { } latency)
        {
            line.Append("  ").Append(latency.ToString("0.0", CultureInfo.InvariantCulture)).Append(" ms");
        }

        if (record.Error is true)
        {
            line.Append("  error");
        }

        if (record.Attach is { Reason: { } reason } attach)
        {
            line.Append("  ").Append(reason).Append(" by ").Append(attach.ClosedBy ?? "-");
        }

        return line.ToString();
    }
}
