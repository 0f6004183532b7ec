using System.Net.Http.Json;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary>
/// docs/design.md §3: a token never appears in a log line or an error body; nor do the control key or a signing secret. The
/// relay logs at Debug here, every category, so that anything the framework would write is captured too.
/// </summary>
public sealed class SecretHygieneTests
{
    /// <summary>
    /// Every category at Trace, including the framework's per-request ones: the relay promises to keep those off
    /// "whatever the configuration says" (the appsettings.json next to the binary would otherwise hide them).
    /// </summary>
    private static readonly Dictionary<string, string?> EverythingLogged = new()
    {
        ["Logging:LogLevel:Default"] = "Trace",
        ["Logging:LogLevel:Microsoft"] = "Trace",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
        ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Trace",
        ["Logging:LogLevel:Microsoft.AspNetCore.Routing"] = "Trace",
        ["Logging:LogLevel:Microsoft.AspNetCore.Http.Result"] = "Trace",
        ["Logging:LogLevel:Microsoft.AspNetCore.Server.Kestrel"] = "Trace",
        ["Logging:LogLevel:System.Net.Http"] = "Trace",
    };

    [Fact(Timeout = 30_000)]
    public async Task No_token_key_or_secret_reaches_a_log_line_or_an_error_body()
    {
        await using var rig = await AttachRig.StartAsync(EverythingLogged);
        var relay = rig.Relay;
        var bodies = new List<string>();
        var (id, token) = await rig.CreateAsync();

        // Refused attaches of every kind, under the real token and near misses of it.
        var chars = token.ToCharArray();
        chars[^1] = chars[^1] == 'A' ? 'B' : 'A';
        var tampered = new string(chars);
        using (var badKey = await RawHttp.SendAsync(relay.BaseUrl, "GET", $"/cdp/{token}", RawHttp.UpgradeHeaders("short")))
        {
            bodies.Add(ApiAssert.Error(badKey, 400, "invalid_websocket_key"));
        }

        using (var plain = await RawHttp.SendAsync(relay.BaseUrl, "GET", $"/cdp/{token}?q={token}", []))
        {
            bodies.Add(ApiAssert.Error(plain, 426, "websocket_required"));
        }

        using (var forged = await rig.AttachAsync(tampered))
        {
            bodies.Add(ApiAssert.Error(forged, 401, "invalid_lease"));
        }

        using (var badTarget = await rig.AttachAsync(token, "/devtools/page/bad%20target"))
        {
            bodies.Add(ApiAssert.Error(badTarget, 400, "invalid_target"));
        }

        // Discovery, good and bad.
        bodies.Add(await relay.Http.GetStringAsync($"cdp/{token}/json/version"));
        using (var forgedDiscovery = await relay.Http.GetAsync($"cdp/{tampered}/json/list"))
        {
            bodies.Add(await ApiAssert.ErrorAsync(forgedDiscovery, 401, "invalid_lease"));
        }

        using (var unknown = await relay.Http.GetAsync($"cdp/{token}/json/unknown"))
        {
            bodies.Add(await unknown.Content.ReadAsStringAsync());
        }

        // A live attach, then the lease deleted with terminate, then refused.
        using (var attach = await rig.AttachAsync(token))
        {
            Assert.Equal(101, attach.Status);
            await relay.DeleteConnectionAsync(AttachRig.RuntimeId, id, terminate: true);
        }

        using (var revoked = await rig.AttachAsync(token))
        {
            bodies.Add(ApiAssert.Error(revoked, 401, "lease_revoked"));
        }

        using (var revokedDiscovery = await relay.Http.GetAsync($"cdp/{token}/json"))
        {
            bodies.Add(await ApiAssert.ErrorAsync(revokedDiscovery, 401, "lease_revoked"));
        }

        // Control-plane refusals that carry the secrets in the request.
        using (var anonymous = new HttpClient { BaseAddress = relay.BaseUrl })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "v1/runtimes");
            request.Headers.TryAddWithoutValidation("Authorization", $"Basic {RelayServer.ControlKey}");
            using var response = await anonymous.SendAsync(request);
            bodies.Add(await ApiAssert.ErrorAsync(response, 401, "unauthorized"));
        }

        using (var put = await relay.Http.PutAsJsonAsync($"v1/runtimes/{AttachRig.RuntimeId}", new { cdpUrl = $"ftp://{token}/{RelayServer.SigningSecret}" }))
        {
            bodies.Add(await ApiAssert.ErrorAsync(put, 400, "invalid_cdp_url"));
        }

        await Task.Delay(200); // let the attach's close be logged
        var lines = relay.Logs.Lines.ToArray();
        Assert.Contains(lines, l => l.Contains("refused", StringComparison.OrdinalIgnoreCase)); // the capture does see the relay's lines
        Assert.Contains(lines, l => l.StartsWith("Trace ", StringComparison.Ordinal)); // and the framework's, at Trace
        var secrets = new Dictionary<string, string>
        {
            ["token"] = token,
            ["token MAC"] = token.Split('.')[^1],
            ["token claims"] = token.Split('.')[2],
            ["tampered token"] = tampered,
            ["control key"] = RelayServer.ControlKey,
            ["signing secret"] = RelayServer.SigningSecret,
        };
        var errorBodies = bodies.Where(b => b.Contains("\"error\"", StringComparison.Ordinal)).ToArray();
        Assert.True(errorBodies.Length >= 8, $"only {errorBodies.Length} error bodies were collected");
        foreach (var (what, secret) in secrets)
        {
            Assert.False(lines.Any(l => l.Contains(secret, StringComparison.Ordinal)), $"{what} in a log line");
            foreach (var body in errorBodies)
            {
                Assert.False(body.Contains(secret, StringComparison.Ordinal), $"{what} in an error body: {body}");
            }
        }

        // The rewritten discovery document carries the lease by design, but never the keys.
        foreach (var body in bodies.Except(errorBodies))
        {
            Assert.DoesNotContain(RelayServer.ControlKey, body, StringComparison.Ordinal);
            Assert.DoesNotContain(RelayServer.SigningSecret, body, StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task A_relay_fault_on_a_tokened_path_answers_json_without_the_path_or_token()
    {
        await using var rig = await AttachRig.StartAsync(EverythingLogged);
        var (_, token) = await rig.CreateAsync();
        rig.Runtime.TruncateDiscovery = true;

        using var response = await rig.Relay.Http.GetAsync($"cdp/{token}/json/list");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode is 500 or 502, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using (var json = System.Text.Json.JsonDocument.Parse(body))
        {
            ApiAssert.ErrorBody(body, json.RootElement.GetProperty("error").GetProperty("code").GetString()!);
        }
        Assert.DoesNotContain(token, body, StringComparison.Ordinal);
        Assert.DoesNotContain("/cdp/", body, StringComparison.Ordinal);
        Assert.DoesNotContain(rig.Runtime.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), body, StringComparison.Ordinal);
        Assert.Contains(rig.Runtime.Requests, r => r.StartsWith("GET /json/list", StringComparison.Ordinal));
        Assert.DoesNotContain(rig.Relay.Logs.Lines, l => l.Contains(token, StringComparison.Ordinal));
    }
}
