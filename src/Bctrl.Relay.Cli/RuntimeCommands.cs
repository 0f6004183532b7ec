using System.CommandLine;
using System.Text.Json;
using Bctrl.Relay.Client;
using Bctrl.Relay.Client.Http;

namespace Bctrl.Relay.Cli;

/// <summary><c>runtimes put|list|get|delete</c>.</summary>
internal static class RuntimeCommands
{
    public static Command Build(CliHost host, GlobalOptions options)
    {
        var runtimes = new Command("runtimes", "Register, list and delete runtimes (browsers)");

        var putId = new Argument<string>("id") { Description = "The runtime id (letters, digits, '.', '_', '-')" };
        var cdpUrl = new Argument<string>("cdp-url") { Description = "ws(s)://host:9222/devtools/browser/<id> or http(s)://host:9222" };
        var put = new Command("put", "Register a runtime, or replace its CDP URL") { putId, cdpUrl };
        put.Handle(host, options, async (context, cancellationToken) =>
        {
            if (!Uri.TryCreate(context.Parse.GetValue(cdpUrl), UriKind.Absolute, out var url))
            {
                throw new CliException("invalid_cdp_url", "The CDP URL must be an absolute ws://, wss://, http:// or https:// URL.");
            }

            using var relay = context.Connect();
            Write(context, [await relay.Runtimes.PutAsync(context.Parse.GetValue(putId)!, url, cancellationToken)], single: true);
        });

        var list = new Command("list", "List the runtimes");
        list.Handle(host, options, async (context, cancellationToken) =>
        {
            using var relay = context.Connect();
            Write(context, await relay.Runtimes.ListAsync(cancellationToken));
        });

        var getId = new Argument<string>("id") { Description = "The runtime id" };
        var get = new Command("get", "Show one runtime") { getId };
        get.Handle(host, options, async (context, cancellationToken) =>
        {
            using var relay = context.Connect();
            Write(context, [await relay.Runtimes.GetAsync(context.Parse.GetValue(getId)!, cancellationToken)], single: true);
        });

        var deleteId = new Argument<string>("id") { Description = "The runtime id" };
        var delete = new Command("delete", "Delete a runtime; its connections stop admitting attaches") { deleteId };
        delete.Handle(host, options, async (context, cancellationToken) =>
        {
            using var relay = context.Connect();
            var id = context.Parse.GetValue(deleteId)!;
            await relay.Runtimes.DeleteAsync(id, cancellationToken);
            if (!context.Json)
            {
                context.Out.WriteLine($"deleted runtime {id}");
            }
        });

        runtimes.Subcommands.Add(put);
        runtimes.Subcommands.Add(list);
        runtimes.Subcommands.Add(get);
        runtimes.Subcommands.Add(delete);
        return runtimes;
    }

    private static void Write(CliContext context, IReadOnlyList<Runtime> runtimes, bool single = false)
    {
        if (context.Json)
        {
            context.Out.WriteLine(single
                ? JsonSerializer.Serialize(runtimes[0], ClientJson.Default.Runtime)
                : JsonSerializer.Serialize(runtimes, ClientJson.Default.IReadOnlyListRuntime));
            return;
        }

        var table = new Table("ID", "CDP URL", "CREATED");
        foreach (var runtime in runtimes)
        {
            table.Add(runtime.Id, runtime.CdpUrl.ToString(), Table.Time(runtime.CreatedAt));
        }

        table.WriteTo(context.Out);
    }
}
