using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Bctrl.Relay.Client;
using Bctrl.Relay.Client.Http;

namespace Bctrl.Relay.Cli;

/// <summary><c>connections create|list|get|delete</c>.</summary>
internal static class ConnectionCommands
{
    public static Command Build(CliHost host, GlobalOptions options)
    {
        var connections = new Command("connections", "Create, list, show and delete connections (leases)");

        var createRuntime = RuntimeArgument();
        var ttl = new Option<string?>("--ttl") { Description = "How long the URL admits attaches: seconds, or 90s, 5m, 1h (default: the relay's)" };
        var scope = new Option<string?>("--scope") { Description = "Scope the lease to one page: its target id (docs/scope.md)" };
        var preset = new Option<string?>("--policy") { Description = "A policy preset: readOnly or noBrowserControl (docs/policy.md)" };
        var allow = new Option<string[]>("--allow") { Description = "Only these CDP methods pass: Page.navigate, DOM.*, … (repeat)", AllowMultipleArgumentsPerToken = true };
        var deny = new Option<string[]>("--deny") { Description = "These CDP methods never pass: Browser.close, Storage.*, … (repeat)", AllowMultipleArgumentsPerToken = true };
        var rate = new Option<int?>("--commands-per-second") { Description = "Quota: commands over this rate are answered with a CDP error (docs/quotas.md)" };
        var maxAttaches = new Option<int?>("--max-attaches") { Description = "Quota: live attaches at once" };
        var maxSeconds = new Option<int?>("--max-attach-seconds") { Description = "Quota: an attach is closed (4004) after this long" };
        var maxBytes = new Option<long?>("--max-bytes") { Description = "Quota: an attach is closed (4005) once it has moved this many bytes" };
        var artifacts = new Option<bool>("--artifacts") { Description = "Keep the lease's screenshots, PDFs, screencast frames and downloads (docs/artifacts.md)" };
        var create = new Command("create", "Create a connection; prints its URL alone when stdout is not a terminal")
        {
            createRuntime, ttl, scope, preset, allow, deny, rate, maxAttaches, maxSeconds, maxBytes, artifacts,
        };
        create.Handle(host, options, async (context, cancellationToken) =>
        {
            using var relay = context.Connect();
            var (presetName, allowed, denied) = (context.Parse.GetValue(preset), context.Parse.GetValue(allow) ?? [], context.Parse.GetValue(deny) ?? []);
            var request = new CreateConnectionRequest
            {
                Ttl = ParseTtl(context.Parse.GetValue(ttl)),
                Scope = context.Parse.GetValue(scope) is { } target ? new ConnectionScope(target) : null,
                Policy = presetName is null && allowed.Length == 0 && denied.Length == 0
                    ? null
                    : new ConnectionPolicy(presetName, allowed.Length > 0 ? allowed : null, denied.Length > 0 ? denied : null),
                Quotas = Quotas(context.Parse.GetValue(rate), context.Parse.GetValue(maxAttaches), context.Parse.GetValue(maxSeconds), context.Parse.GetValue(maxBytes)),
                Record = context.Parse.GetValue(artifacts) ? new ConnectionRecording(Artifacts: true) : null,
            };
            var created = await relay.Runtimes[context.Parse.GetValue(createRuntime)!].Connections.CreateAsync(request, cancellationToken);
            if (context.Json)
            {
                context.Out.WriteLine(JsonSerializer.Serialize(created, ClientJson.Default.CreatedConnection));
            }
            else if (context.IsOutputRedirected)
            {
                // For "$(bctrl-relay connections create local)": the URL and nothing else.
                context.Out.WriteLine(created.Endpoint.Url);
            }
            else
            {
                Table.WriteFields(
                    context.Out,
                    ("id", created.Id.ToString()),
                    ("runtime", created.RuntimeId),
                    ("created", Table.Time(created.CreatedAt)),
                    ("expires", Table.Time(created.ExpiresAt)),
                    ("url", created.Endpoint.Url.ToString()));
            }
        });

        var listRuntime = RuntimeArgument();
        var list = new Command("list", "List a runtime's connections, newest first") { listRuntime };
        list.Handle(host, options, async (context, cancellationToken) =>
        {
            using var relay = context.Connect();
            Write(context, await relay.Runtimes[context.Parse.GetValue(listRuntime)!].Connections.ListAsync(cancellationToken));
        });

        var getRuntime = RuntimeArgument();
        var getId = ConnectionArgument();
        var get = new Command("get", "Show one connection: its state and attach counts") { getRuntime, getId };
        get.Handle(host, options, async (context, cancellationToken) =>
        {
            using var relay = context.Connect();
            var id = CliContext.ConnectionId(context.Parse.GetValue(getId)!);
            Write(context, [await relay.Runtimes[context.Parse.GetValue(getRuntime)!].Connections.GetAsync(id, cancellationToken)], single: true);
        });

        var deleteRuntime = RuntimeArgument();
        var deleteId = ConnectionArgument();
        var terminate = new Option<bool>("--terminate") { Description = "Close its live attaches too (4001); without it they carry on" };
        var delete = new Command("delete", "Delete a connection: its URL admits no new attach") { deleteRuntime, deleteId, terminate };
        delete.Handle(host, options, async (context, cancellationToken) =>
        {
            using var relay = context.Connect();
            var id = CliContext.ConnectionId(context.Parse.GetValue(deleteId)!);
            await relay.Runtimes[context.Parse.GetValue(deleteRuntime)!].Connections.DeleteAsync(id, context.Parse.GetValue(terminate), cancellationToken);
            if (!context.Json)
            {
                context.Out.WriteLine($"deleted connection {id}");
            }
        });

        connections.Subcommands.Add(create);
        connections.Subcommands.Add(list);
        connections.Subcommands.Add(get);
        connections.Subcommands.Add(delete);
        return connections;
    }

    public static Argument<string> RuntimeArgument() => new("runtime") { Description = "The runtime id" };

    public static Argument<string> ConnectionArgument() => new("connection") { Description = "The connection id" };

    private static ConnectionQuotas? Quotas(int? commandsPerSecond, int? maxAttaches, int? maxAttachSeconds, long? maxBytes)
        => commandsPerSecond is null && maxAttaches is null && maxAttachSeconds is null && maxBytes is null
            ? null
            : new ConnectionQuotas(commandsPerSecond, maxAttaches, maxAttachSeconds, maxBytes);

    internal static TimeSpan? ParseTtl(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var unit = char.ToLowerInvariant(text[^1]) switch { 's' => 1, 'm' => 60, 'h' => 3600, _ => 0 };
        var digits = unit == 0 ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > int.MaxValue)
        {
            throw new CliException("invalid_ttl", $"'{text}' is not a duration: give seconds, or a number with s, m or h.");
        }

        return TimeSpan.FromSeconds(value * Math.Max(unit, 1));
    }

    private static void Write(CliContext context, IReadOnlyList<Connection> connections, bool single = false)
    {
        if (context.Json)
        {
            context.Out.WriteLine(single
                ? JsonSerializer.Serialize(connections[0], ClientJson.Default.Connection)
                : JsonSerializer.Serialize(connections, ClientJson.Default.IReadOnlyListConnection));
            return;
        }

        var table = new Table("ID", "STATE", "LIVE", "TOTAL", "CREATED", "EXPIRES");
        foreach (var c in connections)
        {
            table.Add(c.Id.ToString(), c.State, Table.Number(c.Attaches.Live), Table.Number(c.Attaches.Total), Table.Time(c.CreatedAt), Table.Time(c.ExpiresAt));
        }

        table.WriteTo(context.Out);
    }
}
