using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Bctrl.Relay.EndToEndTests.Infrastructure;
using Bctrl.Relay.Testing;
using Microsoft.Playwright;
using Puppeteer = PuppeteerSharp;
using Xunit.Abstractions;

namespace Bctrl.Relay.EndToEndTests.Fleet;

/// <summary>
/// The fleet test runs alone: it starts its own three relays, redis-server and Chromium as processes, which on two
/// cores must not compete with the Chromium collection's tests. It needs no collection fixture.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FleetScriptCollection
{
    public const string Name = "Fleet script";
}

/// <summary>
/// Issue 3: <c>deploy/fleet.sh</c> brings up a working three-node fleet (N relays, one redis-server, one Chromium, all
/// processes) that clients drive through any node. The script runs as a developer would run it, with its own state
/// folder and free ports so that it cannot meet a developer's fleet, and it is stopped with <c>fleet.sh stop</c>;
/// whatever that leaves running is killed by the pids the script recorded, never by name.
/// </summary>
[Collection(FleetScriptCollection.Name)]
public sealed partial class FleetScriptTests(ITestOutputHelper output)
{
    private const int Nodes = 3;
    private const int SigKill = 9;

    [Fact(Timeout = 180_000)]
    public async Task Fleet_script_starts_three_nodes_that_playwright_and_puppeteer_drive_through_any_node()
    {
        var repo = FindRepository();
        var state = Path.Combine(Path.GetTempPath(), "bctrl-fleet-test-" + Guid.NewGuid().ToString("N")[..12]);
        var relayDll = FindRelayDll(repo);
        output.WriteLine($"state: {state}");
        output.WriteLine($"relay: {relayDll ?? "(none found: the script builds the Release relay)"}");

        // Everything but the stop is bounded by this, so that the finally below always runs within the test's timeout.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(100));
        var total = Stopwatch.StartNew();
        var pids = new Dictionary<string, int>();
        var passed = false;
        Exception? failure = null;
        await using var site = await TestSite.StartAsync();
        try
        {
            var (env, startTime) = await StartFleetAsync(repo, state, relayDll, timeout.Token);
            foreach (var (name, pid) in RecordedPids(state))
            {
                pids[name] = pid;
            }

            Assert.Equal(["chromium", "redis", "relay-1", "relay-2", "relay-3"], pids.Keys.Order(StringComparer.Ordinal));
            output.WriteLine($"fleet.sh start: {startTime.TotalSeconds:F1} s; pids {string.Join(", ", pids.Select(p => $"{p.Key}={p.Value}"))}");

            var relays = env["FLEET_RELAY_URLS"].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(url => new Uri(url.TrimEnd('/') + "/")).ToArray();
            Assert.Equal(Nodes, relays.Length);
            Assert.Equal(Nodes, relays.Select(r => r.Port).Distinct().Count());
            var runtimeId = env["FLEET_RUNTIME_ID"];
            using var control = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
            control.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", env["FLEET_CONTROL_API_KEY"]);

            // A connection created through node 1: its URL names node 1; the same token works on every node (the README).
            var (connectionId, endpoint) = await CreateConnectionAsync(control, relays[0], runtimeId, timeout.Token);
            Assert.Equal(relays[0].Authority, endpoint.Authority);
            var onNode2 = OnNode(endpoint, relays[1]);
            var onNode3 = OnNode(endpoint, relays[2]);

            // Playwright .NET through node 2. Browser.CloseAsync on a browser from ConnectOverCDPAsync only disconnects
            // (Playwright sends no Browser.close for a browser it did not launch); Chromium still running afterwards, driven
            // through node 3 below and checked by pid at the end, shows it.
            using (var playwright = await Playwright.CreateAsync())
            {
                var browser = await playwright.Chromium.ConnectOverCDPAsync(onNode2.AbsoluteUri, new() { Timeout = 30_000 });
                try
                {
                    Assert.True(browser.IsConnected);
                    var context = await browser.NewContextAsync();
                    var page = await context.NewPageAsync();
                    await page.GotoAsync(site.Noise(31).AbsoluteUri);
                    Assert.Equal(TestSite.NoiseTitle(31), await page.TitleAsync());
                    Assert.Equal(31, await page.EvaluateAsync<int>("() => window.noiseSeed"));
                    Assert.Equal(42, await page.EvaluateAsync<int>("() => 6 * 7"));
                    await context.CloseAsync();
                }
                finally
                {
                    await browser.CloseAsync();
                }

                Assert.False(browser.IsConnected);
            }

            // PuppeteerSharp through node 3, kept connected while the counts are read.
            Puppeteer.IBrowser? puppeteer = null;
            Puppeteer.IPage? puppeteerPage = null;
            try
            {
                puppeteer = await PuppeteerClient.ConnectAsync(onNode3);
                Assert.Contains("Chrome", await puppeteer.GetVersionAsync(), StringComparison.Ordinal);
                puppeteerPage = await puppeteer.NewPageAsync();
                var response = await puppeteerPage.GoToAsync(site.Noise(32).AbsoluteUri);
                Assert.True(response.Ok, $"Navigation answered {response.Status}.");
                Assert.Equal(TestSite.NoiseTitle(32), await puppeteerPage.EvaluateExpressionAsync<string>("document.title"));
                Assert.Equal(32, await puppeteerPage.EvaluateExpressionAsync<int>("window.noiseSeed"));

                // Attaches summed over the nodes, read through node 3 (and node 1, which saw none of them): Playwright's
                // on node 2, closed, and Puppeteer's on node 3, live. Closes are recorded just after the socket ends.
                foreach (var node in new[] { relays[2], relays[0] })
                {
                    var (live, totalAttaches, text) = await WaitForAttachCountsAsync(control, node, runtimeId, connectionId, (1, 2), timeout.Token);
                    Assert.True((live, totalAttaches) == (1, 2), $"GET on {node.Authority}: expected live 1 and total 2, got {text}");
                }
            }
            finally
            {
                await PuppeteerClient.ReleaseAsync(puppeteer, puppeteerPage);
            }

            // Delete on node 1: a new attach on node 3 is refused with 401 lease_revoked within 1 s.
            await DeleteConnectionAsync(control, relays[0], runtimeId, connectionId, timeout.Token);
            var sinceDelete = Stopwatch.StartNew();
            var probes = 0;
            (HttpStatusCode Status, string? Code, string Body) refusal;
            while (true)
            {
                probes++;
                refusal = await ProbeAttachAsync(onNode3, timeout.Token);
                if (refusal.Status != HttpStatusCode.SwitchingProtocols || sinceDelete.Elapsed > TimeSpan.FromSeconds(2))
                {
                    break;
                }

                await Task.Delay(10, timeout.Token);
            }

            var refusedAfter = sinceDelete.Elapsed;
            output.WriteLine($"delete on node 1 -> attach on node 3 refused after {refusedAfter.TotalMilliseconds:F0} ms ({probes} probe(s))");
            Assert.True(refusal.Status == HttpStatusCode.Unauthorized, $"Expected 401 on node 3, got {(int)refusal.Status}: {refusal.Body}");
            Assert.Equal("lease_revoked", refusal.Code);
            Assert.True(refusedAfter < TimeSpan.FromSeconds(1), $"Node 3 refused the deleted lease only after {refusedAfter.TotalMilliseconds:F0} ms.");
            var onNode2Refusal = await ProbeAttachAsync(onNode2, timeout.Token);
            Assert.Equal(HttpStatusCode.Unauthorized, onNode2Refusal.Status);
            Assert.Equal("lease_revoked", onNode2Refusal.Code);

            // No client closed the fleet's Chromium: every client only disconnected.
            Assert.True(IsAlive(pids["chromium"]), "The fleet's Chromium exited during the test: a client closed it.");
            passed = true;
        }
        catch (Exception exception)
        {
            failure = exception;
            throw;
        }
        finally
        {
            var stopProblem = await StopFleetAsync(repo, state, pids);
            output.WriteLine($"total: {total.Elapsed.TotalSeconds:F1} s");
            if (passed && stopProblem is null)
            {
                TryDelete(state);
            }
            else
            {
                // The logs stay for a look; Chromium's profile (tens of MB) does not.
                DumpLogs(state);
                TryDelete(Path.Combine(state, "chromium-profile"));
            }

            if (failure is null && stopProblem is not null)
            {
                throw new Xunit.Sdk.XunitException(stopProblem);
            }
        }
    }

    // --- the script ---------------------------------------------------------------------------------------------

    private async Task<(Dictionary<string, string> Env, TimeSpan Took)> StartFleetAsync(string repo, string state, string? relayDll, CancellationToken cancellationToken)
    {
        // Free ports are found by binding them; the script checks again and refuses a port in use, so a race with
        // another process is retried on other ports rather than joining someone else's relay or Redis.
        for (var attempt = 1; ; attempt++)
        {
            // The relays' ports and Redis's, all below the ephemeral range.
            var basePort = FindFreePortRun(Nodes + 1);
            var redisPort = basePort + Nodes;
            var environment = new Dictionary<string, string?>
            {
                ["FLEET_NODES"] = Nodes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["FLEET_BASE_PORT"] = basePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["FLEET_REDIS_PORT"] = redisPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["FLEET_REDIS"] = "1",
                ["FLEET_DIR"] = state,
                ["FLEET_BUILD"] = "0",
                ["FLEET_RELAY_DLL"] = relayDll,
            };
            // The script's relays inherit its environment: the transport the run asks for (issue 9: both transports pass CI).
            if (TestTransport.Configured is { } transport)
            {
                environment["Relay__Transport"] = transport;
            }

            var chromium = Environment.GetEnvironmentVariable("BCTRL_E2E_CHROMIUM");
            if (!string.IsNullOrEmpty(chromium))
            {
                environment["FLEET_CHROMIUM"] = chromium;
            }

            var watch = Stopwatch.StartNew();
            var (exitCode, stdout, stderr) = await RunScriptAsync(repo, "start", environment, TimeSpan.FromSeconds(75), cancellationToken);
            output.WriteLine($"$ deploy/fleet.sh start (base port {basePort}, redis {redisPort}) -> {exitCode}\n{stdout}{stderr}");
            if (exitCode == 0)
            {
                var envFile = Path.Combine(state, "fleet.env");
                Assert.True(File.Exists(envFile), $"fleet.sh start succeeded but wrote no {envFile}.");
                return (ReadEnvFile(envFile), watch.Elapsed);
            }

            if (attempt < 3 && stderr.Contains("is in use", StringComparison.Ordinal))
            {
                continue;
            }

            throw new Xunit.Sdk.XunitException($"deploy/fleet.sh start exited with {exitCode}:\n{stdout}{stderr}");
        }
    }

    /// <summary>
    /// <c>fleet.sh stop</c>; then anything of the fleet still alive (recorded at start, or left in a pid file) is
    /// killed with its process group (the script starts each in its own session). Returns what went wrong, if anything.
    /// </summary>
    private async Task<string?> StopFleetAsync(string repo, string state, Dictionary<string, int> started)
    {
        var problems = new List<string>();
        var watch = Stopwatch.StartNew();
        try
        {
            var (exitCode, stdout, stderr) = await RunScriptAsync(
                repo, "stop", new Dictionary<string, string?> { ["FLEET_DIR"] = state }, TimeSpan.FromSeconds(60), CancellationToken.None);
            output.WriteLine($"$ deploy/fleet.sh stop -> {exitCode} in {watch.Elapsed.TotalSeconds:F1} s\n{stdout}{stderr}");
            if (exitCode != 0)
            {
                problems.Add($"deploy/fleet.sh stop exited with {exitCode}: {stdout}{stderr}");
            }
        }
        catch (Exception exception)
        {
            problems.Add($"deploy/fleet.sh stop failed: {exception.Message}");
        }

        var leftovers = new Dictionary<string, int>(started);
        foreach (var (name, pid) in RecordedPids(state))
        {
            leftovers[name] = pid;
        }

        foreach (var (name, pid) in leftovers)
        {
            if (!IsAlive(pid))
            {
                continue;
            }

            problems.Add($"{name} (pid {pid}) outlived deploy/fleet.sh stop: killed");
            _ = Kill(-pid, SigKill); // its process group: setsid made it the leader
            _ = Kill(pid, SigKill);
        }

        foreach (var problem in problems)
        {
            output.WriteLine(problem);
        }

        return problems.Count == 0 ? null : string.Join(Environment.NewLine, problems);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunScriptAsync(
        string repo, string command, IDictionary<string, string?> environment, TimeSpan limit, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("bash")
        {
            WorkingDirectory = repo,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(repo, "deploy", "fleet.sh"));
        info.ArgumentList.Add(command);
        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("bash did not start.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            // The script and whatever it started that is still its descendant; the caller's stop handles the rest.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            return (-1, await stdout, await stderr + $"\n(fleet.sh {command} did not finish within {limit.TotalSeconds:F0} s: killed)");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The script's pid files: NAME.pid holding one pid.</summary>
    private static IEnumerable<(string Name, int Pid)> RecordedPids(string state)
    {
        if (!Directory.Exists(state))
        {
            yield break;
        }

        foreach (var file in Directory.EnumerateFiles(state, "*.pid"))
        {
            if (int.TryParse(File.ReadAllText(file).Trim(), System.Globalization.CultureInfo.InvariantCulture, out var pid) && pid > 1)
            {
                yield return (Path.GetFileNameWithoutExtension(file), pid);
            }
        }
    }

    /// <summary><c>KEY="value"</c> lines, as the script writes them for <c>source</c>.</summary>
    private static Dictionary<string, string> ReadEnvFile(string path)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (line.Length == 0 || line.StartsWith('#') || equals <= 0)
            {
                continue;
            }

            var value = line[(equals + 1)..];
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                value = value[1..^1];
            }

            values[line[..equals]] = value;
        }

        foreach (var key in new[] { "FLEET_RELAY_URLS", "FLEET_CONTROL_API_KEY", "FLEET_RUNTIME_ID" })
        {
            Assert.True(values.ContainsKey(key) && values[key].Length > 0, $"{path} has no {key}: {File.ReadAllText(path)}");
        }

        return values;
    }

    private void DumpLogs(string state)
    {
        if (!Directory.Exists(state))
        {
            return;
        }

        output.WriteLine($"logs kept in {state}");
        foreach (var log in Directory.EnumerateFiles(state, "*.log").Order(StringComparer.Ordinal))
        {
            // Chromium's complaints about a missing D-Bus say nothing here.
            var lines = File.ReadAllLines(log).Where(line => !line.Contains(":ERROR:dbus/", StringComparison.Ordinal)).ToArray();
            output.WriteLine($"--- {Path.GetFileName(log)} (the last 30 lines)");
            output.WriteLine(string.Join(Environment.NewLine, lines.TakeLast(30)));
        }
    }

    private static void TryDelete(string state)
    {
        try
        {
            Directory.Delete(state, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    // --- the relay and the repository ---------------------------------------------------------------------------

    private static string FindRepository()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Bctrl.Relay.sln")) && File.Exists(Path.Combine(directory.FullName, "deploy", "fleet.sh")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No repository (Bctrl.Relay.sln and deploy/fleet.sh) above {AppContext.BaseDirectory}.");
    }

    /// <summary>
    /// The relay built with this test, no network and no build needed: this project references it, so building the
    /// tests (Debug, or Release by <c>tests/run.sh</c>) built <c>src/Bctrl.Relay/bin/CONFIGURATION/TFM</c>, and copied it
    /// next to the tests as well. Null only when neither is there: the script then builds the Release relay.
    /// </summary>
    private static string? FindRelayDll(string repo)
    {
        var configuration = typeof(FleetScriptTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var framework = Path.GetFileName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
        string[] candidates =
        [
            Path.Combine(repo, "src", "Bctrl.Relay", "bin", configuration, framework, "Bctrl.Relay.dll"),
            Path.Combine(AppContext.BaseDirectory, "Bctrl.Relay.dll"),
        ];
        return candidates.FirstOrDefault(dll => File.Exists(dll) && File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")));
    }

    // --- the control API and the data plane ---------------------------------------------------------------------

    private static async Task<(string Id, Uri Endpoint)> CreateConnectionAsync(HttpClient control, Uri node, string runtimeId, CancellationToken cancellationToken)
    {
        using var response = await control.PostAsJsonAsync(new Uri(node, $"v1/runtimes/{runtimeId}/connections"), new { protocol = "cdp", ttlSeconds = 300 }, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"POST connection on {node.Authority} answered {(int)response.StatusCode}: {text}");
        using var json = JsonDocument.Parse(text);
        return (json.RootElement.GetProperty("id").GetString()!, new Uri(json.RootElement.GetProperty("endpoint").GetProperty("url").GetString()!));
    }

    private static async Task DeleteConnectionAsync(HttpClient control, Uri node, string runtimeId, string connectionId, CancellationToken cancellationToken)
    {
        using var response = await control.DeleteAsync(new Uri(node, $"v1/runtimes/{runtimeId}/connections/{connectionId}"), cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"DELETE connection on {node.Authority} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
    }

    /// <summary>Polls GET of the connection on <paramref name="node"/> until its attach counts are <paramref name="expected"/>, or 10 s.</summary>
    private static async Task<(int Live, int Total, string Text)> WaitForAttachCountsAsync(
        HttpClient control, Uri node, string runtimeId, string connectionId, (int Live, int Total) expected, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            using var response = await control.GetAsync(new Uri(node, $"v1/runtimes/{runtimeId}/connections/{connectionId}"), cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            Assert.True(response.IsSuccessStatusCode, $"GET connection on {node.Authority} answered {(int)response.StatusCode}: {text}");
            using var json = JsonDocument.Parse(text);
            var attaches = json.RootElement.GetProperty("attaches");
            var counts = (attaches.GetProperty("live").GetInt32(), attaches.GetProperty("total").GetInt32());
            if (counts == expected || DateTime.UtcNow > deadline)
            {
                return (counts.Item1, counts.Item2, text);
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>The lease's endpoint URL with another node's host and port: the token is the same on every node.</summary>
    private static Uri OnNode(Uri endpoint, Uri node) => new UriBuilder(endpoint) { Host = node.Host, Port = node.Port }.Uri;

    /// <summary>
    /// A WebSocket upgrade as a client library sends it. A refusal comes back as a real HTTP answer with the relay's
    /// error code; an accepted upgrade (101, the revocation not seen yet) is dropped at once.
    /// </summary>
    private static async Task<(HttpStatusCode Status, string? Code, string Body)> ProbeAttachAsync(Uri socketUrl, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, DataPlane.HttpForm(socketUrl));
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new ProductHeaderValue("websocket"));
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));
        using var response = await DataPlane.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.SwitchingProtocols)
        {
            return (response.StatusCode, null, string.Empty);
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        string? code = null;
        try
        {
            using var json = JsonDocument.Parse(body);
            code = json.RootElement.GetProperty("error").GetProperty("code").GetString();
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // Not the relay's error shape: the caller's assertion shows the body.
        }

        return (response.StatusCode, code, body);
    }

    // --- ports and processes ------------------------------------------------------------------------------------

    /// <summary>
    /// The first of <paramref name="count"/> consecutive ports all free on 127.0.0.1 now, below the ephemeral range
    /// (32768 and up on Linux) so that outgoing connections do not take them in the meantime.
    /// </summary>
    private static int FindFreePortRun(int count)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var first = Random.Shared.Next(20_000, 32_000 - count);
            var listeners = new List<TcpListener>();
            try
            {
                for (var port = first; port < first + count; port++)
                {
                    var listener = new TcpListener(IPAddress.Loopback, port);
                    listener.Start();
                    listeners.Add(listener);
                }

                return first;
            }
            catch (SocketException)
            {
                // One of them is taken: another run.
            }
            finally
            {
                foreach (var listener in listeners)
                {
                    listener.Stop();
                    listener.Dispose();
                }
            }
        }

        throw new InvalidOperationException($"No {count} consecutive free ports found in 20000-32000.");
    }

    private static bool IsAlive(int pid) => Kill(pid, 0) == 0 && !IsZombie(pid);

    /// <summary>An exited process its parent has not reaped yet still answers signal 0.</summary>
    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat", Encoding.ASCII);
            var afterName = stat.LastIndexOf(')');
            return afterName > 0 && stat.Length > afterName + 2 && stat[afterName + 2] == 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
