using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
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
        // What a container deployment typically sets: JSON lines with scopes (the capture records scopes anyway).
        ["json console with scopes at Information"] = new()
        {
            ["Logging:Console:FormatterName"] = "json",
            ["Logging:Console:FormatterOptions:IncludeScopes"] = "true",
            ["Logging:Console:LogLevel:Default"] = "Information",
            [$"Logging:{Capture}:LogLevel:Default"] = "Information",
        },
    };

    public static TheoryData<string> Names => [.. Configurations.Keys];

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Names))]
    public async Task No_log_line_holds_a_token_or_a_key(string configuration)
    {
        var rig = await AttachRig.StartAsync(Configurations[configuration]);
        var secrets = new Dictionary<string, string>
        {
            ["control key"] = RelayServer.ControlKey,
            ["signing secret"] = RelayServer.SigningSecret,
        };
        try
        {
            var relay = rig.Relay;
            var (_, live) = await rig.CreateAsync();
            var (revokedId, revoked) = await rig.CreateAsync();
            var tampered = Tamper(live);
            foreach (var (what, token) in new[] { ("token", live), ("revoked token", revoked), ("tampered token", tampered) })
            {
                secrets[what] = token;
                secrets[what + " claims"] = token.Split('.')[2];
                secrets[what + " MAC"] = token.Split('.')[^1];
            }

            using (var attach = await rig.AttachAsync(live))
            {
                Assert.Equal(101, attach.Status);
            }

            Assert.Contains("webSocketDebuggerUrl", await relay.Http.GetStringAsync($"cdp/{live}/json/version"), StringComparison.Ordinal);
            using (await relay.Http.GetAsync($"cdp/{live}/json/list"))
            using (await relay.Http.GetAsync($"cdp/{tampered}/json/list"))
            using (var forged = await rig.AttachAsync(tampered))
            {
                Assert.Equal(401, forged.Status);
            }

            await relay.DeleteConnectionAsync(AttachRig.RuntimeId, revokedId);
            using (var refused = await rig.AttachAsync(revoked))
            using (await relay.Http.GetAsync($"cdp/{revoked}/json"))
            {
                Assert.Equal(401, refused.Status);
            }

            using (await rig.AttachAsync(live, "/devtools/page/bad%20target"))
            using (await RawHttp.SendAsync(relay.BaseUrl, "GET", $"/cdp/{live}?q={live}", []))
            using (await RawHttp.SendAsync(relay.BaseUrl, "GET", $"/cdp/{live}/nowhere", [("Referer", live)]))
            using (var anonymous = new HttpClient { BaseAddress = relay.BaseUrl })
            using (var request = new HttpRequestMessage(HttpMethod.Get, "v1/runtimes"))
            {
                request.Headers.TryAddWithoutValidation("Authorization", $"Basic {RelayServer.ControlKey}");
                using var response = await anonymous.SendAsync(request);
                Assert.Equal(401, (int)response.StatusCode);
            }

            using (await relay.Http.PutAsJsonAsync($"v1/runtimes/{AttachRig.RuntimeId}", new { cdpUrl = $"ftp://{live}/{RelayServer.SigningSecret}" }))
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
                var answer = await SendRawAsync(relay.BaseUrl, request);
                Assert.DoesNotContain(live, answer, StringComparison.Ordinal);
            }
        }
        finally
        {
            // Stopped before the search: every line the relay and the framework will write has been written.
            await rig.DisposeAsync();
        }

        var lines = rig.Relay.Logs.Lines.ToArray();
        // The capture saw this configuration's lines: the relay's own and the framework's.
        Assert.Contains(lines, l => l.Contains(" Bctrl.Relay.", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(" Microsoft.", StringComparison.Ordinal));
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
