using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Bctrl.Relay.FunctionalTests.Processes;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary>
/// Issue 8, finding 4: no log line holds a token, the control key or a signing secret under any logging configuration,
/// provider-level rules and rules more specific than the relay's own included. Each configuration runs a relay through
/// attaches (valid, revoked, tampered), discovery, control-plane refusals and malformed requests that carry a token,
/// then searches every captured line, its structured state and its scopes.
/// </summary>
public sealed class LoggingConfigurationTests
{
    private const string Capture = LogCapture.Alias;

    private static readonly Dictionary<string, Dictionary<string, string?>> Configurations = new()
    {
        ["all categories at Trace"] = new() { ["Logging:LogLevel:Default"] = "Trace" },
        // The issue's reproduction: a provider-level default beats every provider-agnostic rule.
        ["provider default at Information"] = new() { [$"Logging:{Capture}:LogLevel:Default"] = "Information" },
        ["provider default at Trace"] = new() { [$"Logging:{Capture}:LogLevel:Default"] = "Trace" },
        ["provider Microsoft.AspNetCore at Trace"] = new()
        {
            ["Logging:LogLevel:Default"] = "Information",
            [$"Logging:{Capture}:LogLevel:Microsoft.AspNetCore"] = "Trace",
        },
        ["provider, each framework category at Trace"] = new()
        {
            [$"Logging:{Capture}:LogLevel:Default"] = "Trace",
            [$"Logging:{Capture}:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Trace",
            [$"Logging:{Capture}:LogLevel:Microsoft.AspNetCore.Routing"] = "Trace",
            [$"Logging:{Capture}:LogLevel:Microsoft.AspNetCore.Http"] = "Trace",
            [$"Logging:{Capture}:LogLevel:Microsoft.AspNetCore.Http.Result"] = "Trace",
            [$"Logging:{Capture}:LogLevel:Microsoft.AspNetCore.Server.Kestrel"] = "Trace",
            [$"Logging:{Capture}:LogLevel:Microsoft.AspNetCore.Server.Kestrel.BadRequests"] = "Trace",
        },
        ["provider full type name at Trace"] = new() { [$"Logging:{typeof(LogCapture).FullName}:LogLevel:Default"] = "Trace" },
        // Rules longer than the relay's: the longest category prefix wins.
        ["categories below the relay's rules at Trace"] = new()
        {
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics.Extra"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore.Routing.Matching.DfaMatcher"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore.Routing.EndpointRoutingMiddleware"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore.Server.Kestrel.BadRequests"] = "Trace",
            [$"Logging:{Capture}:LogLevel:Microsoft.AspNetCore.Server.Kestrel.Connections"] = "Trace",
        },
        // Wildcard categories can be longer than the relay's rule and still match its categories.
        ["wildcard categories at Trace"] = new()
        {
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:*"] = "Trace",
            ["Logging:LogLevel:Microsoft.*.Matching.DfaMatcher"] = "Trace",
            [$"Logging:{Capture}:LogLevel:M*.AspNetCore.Hosting.Diagnostics"] = "Trace",
            [$"Logging:{Capture}:LogLevel:Microsoft.AspNetCore.Server.*"] = "Trace",
        },
        // Rules for two providers: the relay's rules are appended for each provider named.
        ["two providers named, at Information"] = new()
        {
            ["Logging:Console:LogLevel:Default"] = "Information",
            [$"Logging:{Capture}:LogLevel:Default"] = "Information",
        },
    };

    /// <summary>The same with the real console provider, in a relay process of its own whose output is searched.</summary>
    private static readonly Dictionary<string, string[]> ConsoleConfigurations = new()
    {
        ["console at Information"] = ["--Logging:Console:LogLevel:Default=Information"],
        // The slim builder registers only the simple formatter: asked for json, the console writes simple lines, and
        // with scopes each line also carries hosting's scope (RequestPath) whenever hosting's logger is on.
        ["console asked for json, with scopes, at Trace"] =
        [
            "--Logging:Console:FormatterName=json",
            "--Logging:Console:FormatterOptions:IncludeScopes=true",
            "--Logging:Console:LogLevel:Default=Trace",
            "--Logging:Console:LogLevel:Microsoft.AspNetCore.Routing.Matching.DfaMatcher=Trace",
        ],
    };

    public static TheoryData<string> Names => [.. Configurations.Keys];

    public static TheoryData<string> ConsoleNames => [.. ConsoleConfigurations.Keys];

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Names))]
    public async Task No_log_line_holds_a_token_or_a_key(string configuration)
    {
        await using var runtime = new CountingRuntime();
        var relay = await RelayServer.StartAsync(Configurations[configuration]);
        Dictionary<string, string> secrets;
        try
        {
            secrets = await ExerciseAsync(relay.BaseUrl, relay.Http, runtime.CdpUrl);
        }
        finally
        {
            // Stopped before the search: every line the relay and the framework will write has been written.
            await relay.DisposeAsync();
        }

        AssertNoSecret(relay.Logs.Lines.ToArray(), secrets, configuration);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(ConsoleNames))]
    public async Task No_console_line_holds_a_token_or_a_key(string configuration)
    {
        await using var runtime = new CountingRuntime();
        await using var relay = await RelayChildProcess.StartAsync(arguments: ConsoleConfigurations[configuration]);
        using var http = new HttpClient { BaseAddress = relay.BaseUrl, Timeout = TimeSpan.FromSeconds(20) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", RelayServer.ControlKey);
        var secrets = await ExerciseAsync(relay.BaseUrl, http, runtime.CdpUrl);
        var lines = await relay.StopAsync();
        AssertNoSecret(lines, secrets, configuration);
    }

    /// <summary>
    /// Attaches (valid, tampered, revoked, a bad target), discovery, control-plane refusals that carry the key, and
    /// malformed requests that carry a token; returns every secret this put in a request, by what it is.
    /// </summary>
    private static async Task<Dictionary<string, string>> ExerciseAsync(Uri baseUrl, HttpClient http, Uri runtimeUrl)
    {
        var secrets = new Dictionary<string, string>
        {
            ["control key"] = RelayServer.ControlKey,
            ["signing secret"] = RelayServer.SigningSecret,
        };
        using (var put = await http.PutAsJsonAsync($"v1/runtimes/{AttachRig.RuntimeId}", new { cdpUrl = runtimeUrl.ToString() }))
        {
            put.EnsureSuccessStatusCode();
        }

        var (_, live) = await CreateAsync(http);
        var (revokedId, revoked) = await CreateAsync(http);
        var tampered = Tamper(live);
        foreach (var (what, token) in new[] { ("token", live), ("revoked token", revoked), ("tampered token", tampered) })
        {
            secrets[what] = token;
            secrets[what + " claims"] = token.Split('.')[2];
            secrets[what + " MAC"] = token.Split('.')[^1];
        }

        using (var attach = await RawHttp.UpgradeAsync(baseUrl, $"/cdp/{live}"))
        {
            Assert.Equal(101, attach.Status);
        }

        Assert.Contains("webSocketDebuggerUrl", await http.GetStringAsync($"cdp/{live}/json/version"), StringComparison.Ordinal);
        using (await http.GetAsync($"cdp/{live}/json/list"))
        using (await http.GetAsync($"cdp/{tampered}/json/list"))
        using (var forged = await RawHttp.UpgradeAsync(baseUrl, $"/cdp/{tampered}"))
        {
            Assert.Equal(401, forged.Status);
        }

        using (var deleted = await http.DeleteAsync($"v1/runtimes/{AttachRig.RuntimeId}/connections/{revokedId}"))
        {
            deleted.EnsureSuccessStatusCode();
        }

        using (var refused = await RawHttp.UpgradeAsync(baseUrl, $"/cdp/{revoked}"))
        using (await http.GetAsync($"cdp/{revoked}/json"))
        {
            Assert.Equal(401, refused.Status);
        }

        using (await RawHttp.UpgradeAsync(baseUrl, $"/cdp/{live}/devtools/page/bad%20target"))
        using (await RawHttp.SendAsync(baseUrl, "GET", $"/cdp/{live}?q={live}", []))
        using (await RawHttp.SendAsync(baseUrl, "GET", $"/cdp/{live}/nowhere", [("Referer", live)]))
        using (var anonymous = new HttpClient { BaseAddress = baseUrl })
        using (var request = new HttpRequestMessage(HttpMethod.Get, "v1/runtimes"))
        {
            request.Headers.TryAddWithoutValidation("Authorization", $"Basic {RelayServer.ControlKey}");
            using var response = await anonymous.SendAsync(request);
            Assert.Equal(401, (int)response.StatusCode);
        }

        using (await http.PutAsJsonAsync($"v1/runtimes/{AttachRig.RuntimeId}", new { cdpUrl = $"ftp://{live}/{RelayServer.SigningSecret}" }))
        {
        }

        // Requests Kestrel rejects itself (with details enabled it quotes the offending request line or header), and
        // an HTTP/1.0 upgrade and a control character in the path, which reach the relay.
        var upgrade = $"Host: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {RawHttp.NewKey()}\r\n";
        var malformed = new[]
        {
            $"GET /cdp/{live} HTTP/1.0\r\n{upgrade}\r\n",
            $"GET /cdp/{live} EXTRA HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            $"GET /cdp/{live}\u0001 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            $"GET /cdp/{live} HTTP/9.9\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            $"GET /cdp/{live} HTTP/1.1\r\nHost: {live}\r\nConnection: close\r\n\r\n",
            $"GET /cdp/{live} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Token {live}\r\n\r\n",
            $"GET /cdp/{live} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Big: {new string('a', 40_000)}\r\n\r\n",
            $"GET /cdp/{live}?{new string('a', 10_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            $"GET /cdp/{live} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: x{live}\r\n\r\n",
            $"POST /cdp/{live} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nTransfer-Encoding: {live}\r\n\r\n",
        };
        foreach (var request in malformed)
        {
            var answer = await SendRawAsync(baseUrl, request);
            Assert.DoesNotContain(live, answer, StringComparison.Ordinal);
        }

        return secrets;
    }

    private static async Task<(string Id, string Token)> CreateAsync(HttpClient http)
    {
        using var response = await http.PostAsJsonAsync($"v1/runtimes/{AttachRig.RuntimeId}/connections", new { protocol = "cdp" });
        response.EnsureSuccessStatusCode();
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var url = new Uri(json.RootElement.GetProperty("endpoint").GetProperty("url").GetString()!);
        return (json.RootElement.GetProperty("id").GetString()!, AttachRig.TokenOf(url));
    }

    private static void AssertNoSecret(string[] lines, Dictionary<string, string> secrets, string configuration)
    {
        // The log saw this configuration's lines: the relay's own and the framework's.
        Assert.Contains(lines, l => l.Contains("Bctrl.Relay.", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Microsoft.", StringComparison.Ordinal));
        var leaks = secrets.SelectMany(s => lines.Where(l => l.Contains(s.Value, StringComparison.Ordinal)).Select(l => (What: s.Key, Line: l))).ToArray();
        Assert.True(
            leaks.Length == 0,
            $"{leaks.Length} log lines under '{configuration}' hold a secret, from {string.Join(", ", leaks.Select(l => l.Line.Split(']')[0] + "]").Distinct())}; "
            + $"the first holds the {leaks.FirstOrDefault().What}: {leaks.FirstOrDefault().Line?[..Math.Min(leaks.FirstOrDefault().Line.Length, 400)]}");
    }

    private static string Tamper(string token)
    {
        var chars = token.ToCharArray();
        chars[^1] = chars[^1] == 'A' ? 'B' : 'A';
        return new string(chars);
    }

    /// <summary>Sends <paramref name="request"/> as it is and returns what the server answers until it closes (at most 5 s) or switches protocols.</summary>
    private static async Task<string> SendRawAsync(Uri server, string request)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.Host, server.Port, timeout.Token);
        var answer = new StringBuilder();
        try
        {
            await socket.SendAsync(Encoding.Latin1.GetBytes(request), SocketFlags.None, timeout.Token);
            var buffer = new byte[8192];
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                answer.Append(Encoding.Latin1.GetString(buffer, 0, read));
                if (answer.ToString().StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // A reset after the answer, or a connection left open: what was read is the answer.
        }

        return answer.ToString();
    }
}
