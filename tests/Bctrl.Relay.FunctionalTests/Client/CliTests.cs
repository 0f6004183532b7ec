using System.Text.Json;
using Bctrl.Relay.Cli;
using Bctrl.Relay.Testing;
using CliProgram = Bctrl.Relay.Cli.Program;

namespace Bctrl.Relay.FunctionalTests.Client;

/// <summary>The <c>bctrl-relay</c> CLI run in process (<see cref="CliProgram.RunAsync(string[], CliHost, CancellationToken)"/>) against a real relay.</summary>
public sealed class CliTests
{
    [Fact(Timeout = 30_000)]
    public async Task Connections_create_piped_prints_the_url_alone_and_a_client_attaches_with_it()
    {
        await using var rig = await ClientRig.StartAsync();
        var run = await RunAsync(rig, redirected: true, "connections", "create", ClientRig.RuntimeId, "--ttl", "5m");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Error);
        var line = Assert.Single(run.Lines);
        var url = new Uri(line);
        Assert.Equal("ws", url.Scheme);
        Assert.StartsWith("/cdp/", url.AbsolutePath, StringComparison.Ordinal);

        var socket = await ClientRig.AttachAsync(url);
        await ClientRig.CommandsAsync(socket, 1, 1);
        await ClientRig.CloseAsync(socket);
    }

    [Fact(Timeout = 30_000)]
    public async Task Create_takes_a_scope_a_policy_and_quotas()
    {
        await using var rig = await ClientRig.StartAsync();
        var created = await RunAsync(rig, redirected: true,
            "--json", "connections", "create", ClientRig.RuntimeId, "--scope", "PAGE1", "--policy", "readOnly", "--deny", "Storage.*", "--deny", "Network.getAllCookies", "--max-attaches", "3");
        Assert.Equal(0, created.ExitCode);
        using var json = JsonDocument.Parse(created.Output);
        Assert.Equal("PAGE1", json.RootElement.GetProperty("scope").GetProperty("target").GetString());
        Assert.Equal("readOnly", json.RootElement.GetProperty("policy").GetProperty("preset").GetString());
        Assert.Equal(["Storage.*", "Network.getAllCookies"], json.RootElement.GetProperty("policy").GetProperty("deny").EnumerateArray().Select(e => e.GetString()));

        Assert.Equal(3, json.RootElement.GetProperty("quotas").GetProperty("maxAttaches").GetInt32());

        var refused = await RunAsync(rig, redirected: true, "connections", "create", ClientRig.RuntimeId, "--allow", "Page");
        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith("error: invalid_policy: ", refused.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task Artifacts_are_asked_for_listed_and_written_to_a_file()
    {
        await using var rig = await ClientRig.StartAsync();
        var created = await RunAsync(rig, redirected: true, "--json", "connections", "create", ClientRig.RuntimeId, "--artifacts");
        Assert.Equal(0, created.ExitCode);
        using var json = JsonDocument.Parse(created.Output);
        Assert.True(json.RootElement.GetProperty("record").GetProperty("artifacts").GetBoolean());

        // The echoing runtime answers a command that carries a result with itself: to the relay, a screenshot's result.
        byte[] png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 7, 7, 7];
        var socket = await ClientRig.AttachAsync(new Uri(json.RootElement.GetProperty("endpoint").GetProperty("url").GetString()!));
        await socket.SendAsync(System.Text.Encoding.UTF8.GetBytes(
            $$$"""{"id":4,"method":"Page.captureScreenshot","result":{"data":"{{{Convert.ToBase64String(png)}}}"}}"""), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);
        await socket.ReceiveAsync(new byte[1024], CancellationToken.None);
        await ClientRig.CloseAsync(socket);

        CliRun listed;
        var waited = 0;
        do
        {
            await Task.Delay(50);
            listed = await RunAsync(rig, redirected: false, "artifacts", "list", ClientRig.RuntimeId, "--kind", "screenshot");
        }
        while (listed.Lines.Length < 2 && ++waited < 100);

        Assert.Equal(0, listed.ExitCode);
        Assert.StartsWith("ID", listed.Lines[0], StringComparison.Ordinal);
        var artifactId = listed.Lines[1].Split(' ', 2)[0];
        Assert.Contains("Page.captureScreenshot", listed.Lines[1], StringComparison.Ordinal);

        var file = Path.GetTempFileName();
        try
        {
            var got = await RunAsync(rig, redirected: false, "artifacts", "get", ClientRig.RuntimeId, artifactId, "-o", file);
            Assert.Equal(0, got.ExitCode);
            Assert.Equal(png, await File.ReadAllBytesAsync(file));
            var missing = await RunAsync(rig, redirected: false, "artifacts", "get", ClientRig.RuntimeId, "0123456789abcdef0123456789abcdef", "-o", file);
            Assert.Equal(1, missing.ExitCode);
            Assert.StartsWith("error: artifact_not_found: ", missing.Error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Json_output_parses_and_tables_are_aligned()
    {
        await using var rig = await ClientRig.StartAsync();
        var created = await RunAsync(rig, redirected: true, "--json", "connections", "create", ClientRig.RuntimeId);
        using var createdJson = JsonDocument.Parse(created.Output);
        var id = createdJson.RootElement.GetProperty("id").GetString()!;
        Assert.StartsWith("ws://", createdJson.RootElement.GetProperty("endpoint").GetProperty("url").GetString(), StringComparison.Ordinal);

        var listed = await RunAsync(rig, redirected: true, "connections", "list", ClientRig.RuntimeId, "--json");
        Assert.Equal(0, listed.ExitCode);
        using var listJson = JsonDocument.Parse(listed.Output);
        var only = Assert.Single(listJson.RootElement.EnumerateArray());
        Assert.Equal(id, only.GetProperty("id").GetString());
        Assert.Equal("active", only.GetProperty("state").GetString());
        Assert.False(only.TryGetProperty("endpoint", out _));

        var got = await RunAsync(rig, redirected: false, "--json", "connections", "get", ClientRig.RuntimeId, id);
        using var gotJson = JsonDocument.Parse(got.Output);
        Assert.Equal(0, gotJson.RootElement.GetProperty("attaches").GetProperty("total").GetInt32());

        await RunAsync(rig, redirected: false, "runtimes", "put", "rt-long-name-for-alignment", rig.Runtime.HttpUrl.ToString());
        var table = await RunAsync(rig, redirected: false, "runtimes", "list");
        Assert.Equal(0, table.ExitCode);
        Assert.Equal(3, table.Lines.Length);
        Assert.Equal(["ID", "CDP", "URL", "CREATED"], table.Lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var urlColumn = table.Lines[0].IndexOf("CDP URL", StringComparison.Ordinal);
        Assert.All(table.Lines.Skip(1), row => Assert.StartsWith("ws://", row[urlColumn..].Replace("http://", "ws://", StringComparison.Ordinal), StringComparison.Ordinal));
        Assert.Contains(table.Lines, row => row.StartsWith(ClientRig.RuntimeId + " ", StringComparison.Ordinal));

        var terminal = await RunAsync(rig, redirected: false, "connections", "create", ClientRig.RuntimeId);
        Assert.Contains(terminal.Lines, l => l.StartsWith("url ", StringComparison.Ordinal) && l.Contains("ws://", StringComparison.Ordinal));
        Assert.Contains(terminal.Lines, l => l.StartsWith("expires ", StringComparison.Ordinal));

        var deleted = await RunAsync(rig, redirected: false, "connections", "delete", ClientRig.RuntimeId, id, "--terminate");
        Assert.Equal(0, deleted.ExitCode);
        Assert.Equal("deleted", (await rig.Rt.Connections.GetAsync(Guid.Parse(id))).State);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_bad_key_is_one_line_on_stderr_and_exit_code_1_without_a_stack_trace_or_the_key()
    {
        await using var rig = await ClientRig.StartAsync();
        const string WrongKey = "wrong-cli-key-0f9e8d";
        var run = await RunAsync(rig, redirected: true, ["--key", WrongKey, "runtimes", "list"], withKey: false);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.Output);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: unauthorized: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongKey, run.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task Refusals_and_bad_arguments_are_one_line_with_the_api_code()
    {
        await using var rig = await ClientRig.StartAsync();

        var missing = await RunAsync(rig, redirected: true, "connections", "get", ClientRig.RuntimeId, Guid.NewGuid().ToString());
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("error: connection_not_found: The connection does not exist.", missing.Error.TrimEnd());

        var notAnId = await RunAsync(rig, redirected: true, "attaches", ClientRig.RuntimeId, "not-a-guid");
        Assert.Equal(1, notAnId.ExitCode);
        Assert.StartsWith("error: invalid_connection_id: ", notAnId.Error, StringComparison.Ordinal);

        var usage = await RunAsync(rig, redirected: true, "connections", "create");
        Assert.Equal(1, usage.ExitCode);
        Assert.Single(usage.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: usage: ", usage.Error, StringComparison.Ordinal);

        var noKey = await RunAsync(rig, redirected: true, ["runtimes", "list"], withKey: false);
        Assert.Equal(1, noKey.ExitCode);
        Assert.StartsWith("error: missing_key: ", noKey.Error, StringComparison.Ordinal);

        var unreachable = await CliProgram.RunAsync(
            ["--url", "http://127.0.0.1:1", "--key", "k", "runtimes", "list"], Host(new StringWriter(), new StringWriter(), true, _ => null));
        Assert.Equal(1, unreachable);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_url_and_key_come_from_the_environment_when_no_flag_names_them()
    {
        await using var rig = await ClientRig.StartAsync();
        var environment = new Dictionary<string, string?>
        {
            ["BCTRL_RELAY_URL"] = rig.Relay.BaseUrl.ToString(),
            ["BCTRL_RELAY_KEY"] = RelayServer.ControlKey,
        };
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await CliProgram.RunAsync(["runtimes", "get", ClientRig.RuntimeId, "--json"], Host(output, error, true, name => environment.GetValueOrDefault(name)));

        Assert.Equal(0, exit);
        Assert.Equal("", error.ToString());
        using var json = JsonDocument.Parse(output.ToString());
        Assert.Equal(rig.Runtime.WebSocketUrl.ToString(), json.RootElement.GetProperty("cdpUrl").GetString());

        // A flag wins over the variable.
        environment["BCTRL_RELAY_KEY"] = "not-the-key";
        var flagged = await CliProgram.RunAsync(
            ["runtimes", "list", "--key", RelayServer.ControlKey], Host(new StringWriter(), new StringWriter(), true, name => environment.GetValueOrDefault(name)));
        Assert.Equal(0, flagged);
    }

    [Fact(Timeout = 30_000)]
    public async Task Events_tail_prints_a_line_per_record_and_attaches_lists_the_attach()
    {
        await using var rig = await ClientRig.StartAsync();
        var created = await rig.Rt.Connections.CreateAsync();
        var socket = await ClientRig.AttachAsync(created.Endpoint.Url);
        await ClientRig.CommandsAsync(socket, 1, 2, "Target.getTargets");
        await ClientRig.CloseAsync(socket);

        var output = new SyncWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var tail = CliProgram.RunAsync(
            ["--url", rig.Relay.BaseUrl.ToString(), "--key", RelayServer.ControlKey, "events", "tail", ClientRig.RuntimeId, "--type", "cdp.command,attach.closed", "--json"],
            Host(output, new StringWriter(), true, _ => null),
            stop.Token);
        while (!output.ToString().Contains("attach.closed", StringComparison.Ordinal) && !stop.IsCancellationRequested)
        {
            await Task.Delay(20);
        }

        await stop.CancelAsync();
        Assert.Equal(130, await tail);
        var records = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(["cdp.command", "cdp.command", "attach.closed"], records.Select(r => r.GetProperty("type").GetString()));
        Assert.All(records, r => Assert.NotEmpty(r.GetProperty("eventId").GetString()!));
        Assert.Equal(2, records[1].GetProperty("id").GetInt64());

        var attaches = await RunAsync(rig, redirected: false, "attaches", ClientRig.RuntimeId, created.Id.ToString());
        Assert.Equal(0, attaches.ExitCode);
        Assert.Equal(2, attaches.Lines.Length);
        Assert.StartsWith("ATTACH", attaches.Lines[0], StringComparison.Ordinal);
        Assert.Contains("client_close", attaches.Lines[1], StringComparison.Ordinal);
    }

    private static CliHost Host(TextWriter output, TextWriter error, bool redirected, Func<string, string?> environment)
        => new(output, error, redirected, environment, HandlesSignals: false);

    private static Task<CliRun> RunAsync(ClientRig rig, bool redirected, params string[] args) => RunAsync(rig, redirected, args, withKey: true);

    private static async Task<CliRun> RunAsync(ClientRig rig, bool redirected, string[] args, bool withKey)
    {
        string[] global = withKey ? ["--url", rig.Relay.BaseUrl.ToString(), "--key", RelayServer.ControlKey] : ["--url", rig.Relay.BaseUrl.ToString()];
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await CliProgram.RunAsync([.. global, .. args], Host(output, error, redirected, _ => null));
        return new CliRun(exit, output.ToString(), error.ToString());
    }

    private sealed record CliRun(int ExitCode, string Output, string Error)
    {
        public string[] Lines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>A StringWriter that the test may read while the CLI writes.</summary>
    private sealed class SyncWriter : StringWriter
    {
        private readonly Lock _lock = new();

        public override void Write(char value)
        {
            lock (_lock)
            {
                base.Write(value);
            }
        }

        public override void Write(string? value)
        {
            lock (_lock)
            {
                base.Write(value);
            }
        }

        public override void WriteLine(string? value)
        {
            lock (_lock)
            {
                base.WriteLine(value);
            }
        }

        public override string ToString()
        {
            lock (_lock)
            {
                return base.ToString();
            }
        }
    }
}
