using System.CommandLine;
using System.Text.Json;
using Bctrl.Relay.Client;
using Bctrl.Relay.Client.Http;

namespace Bctrl.Relay.Cli;

/// <summary><c>artifacts list|get</c>: a runtime's screenshots, PDFs, screencast frames and downloads (docs/artifacts.md).</summary>
internal static class ArtifactCommands
{
    public static Command Build(CliHost host, GlobalOptions options)
    {
        var artifacts = new Command("artifacts", "List and fetch a runtime's artifacts: screenshots, PDFs, screencast frames, downloads");

        var listRuntime = ConnectionCommands.RuntimeArgument();
        var connection = new Option<string?>("--connection") { Description = "Only this connection's artifacts" };
        var kind = new Option<string?>("--kind") { Description = "Only this kind: screenshot, pdf, screencastFrame, download" };
        var list = new Command("list", "List a runtime's artifacts, oldest first") { listRuntime, connection, kind };
        list.Handle(host, options, async (context, cancellationToken) =>
        {
            using var relay = context.Connect();
            var connectionId = context.Parse.GetValue(connection) is { } id ? CliContext.ConnectionId(id) : (Guid?)null;
            var listed = await relay.Runtimes[context.Parse.GetValue(listRuntime)!].Artifacts.ListAsync(connectionId, context.Parse.GetValue(kind), cancellationToken);
            if (context.Json)
            {
                context.Out.WriteLine(JsonSerializer.Serialize(listed, ClientJson.Default.IReadOnlyListArtifact));
                return;
            }

            var table = new Table("ID", "KIND", "CREATED", "CONNECTION", "METHOD", "COMMAND", "TYPE", "BYTES", "NAME");
            foreach (var a in listed)
            {
                table.Add(a.Id, a.Kind, Table.Time(a.CreatedAt), a.ConnectionId.ToString(), a.Method, a.CommandId is { } c ? Table.Number(c) : null,
                    a.ContentType, Table.Number(a.Size), a.Name);
            }

            table.WriteTo(context.Out);
        });

        var getRuntime = ConnectionCommands.RuntimeArgument();
        var artifactId = new Argument<string>("artifact") { Description = "The artifact id" };
        var output = new Option<string>("--output", "-o") { Description = "Write the bytes to this file", Required = true };
        var get = new Command("get", "Write one artifact's bytes to a file") { getRuntime, artifactId, output };
        get.Handle(host, options, async (context, cancellationToken) =>
        {
            using var relay = context.Connect();
            var content = await relay.Runtimes[context.Parse.GetValue(getRuntime)!].Artifacts.GetAsync(context.Parse.GetValue(artifactId)!, cancellationToken);
            var path = context.Parse.GetValue(output)!;
            await File.WriteAllBytesAsync(path, content.Bytes, cancellationToken);
            context.Out.WriteLine($"{path}: {content.Bytes.Length} bytes, {content.ContentType ?? "unknown type"}");
        });

        artifacts.Subcommands.Add(list);
        artifacts.Subcommands.Add(get);
        return artifacts;
    }
}
