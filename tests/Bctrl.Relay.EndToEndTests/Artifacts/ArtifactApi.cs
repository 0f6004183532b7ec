using System.Net;
using System.Text.Json;
using Bctrl.Relay.EndToEndTests.Infrastructure;
using Bctrl.Relay.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bctrl.Relay.EndToEndTests.Artifacts;

/// <summary>
/// docs/artifacts.md as a client of the control API sees it: leases that record artifacts, the runtime's artifact list,
/// one artifact's bytes, and the artifact counters (read in process). Every wait is bounded and fails with what it saw.
/// </summary>
internal static class ArtifactApi
{
    /// <summary>How long the artifact pump may take to store what a client already received (it runs off the splice).</summary>
    public static readonly TimeSpan StoreWait = TimeSpan.FromSeconds(10);

    /// <summary>Creates a <c>cdp</c> lease, with <c>record.artifacts</c> or without <c>record</c>; returns its id and endpoint URL.</summary>
    public static async Task<(string Id, Uri Endpoint)> CreateLeaseAsync(RelayServer relay, bool recordArtifacts)
    {
        var created = recordArtifacts
            ? await relay.CreateConnectionAsync(Relays.RuntimeId, new { protocol = "cdp", record = new { artifacts = true } })
            : await relay.CreateConnectionAsync(Relays.RuntimeId, new { protocol = "cdp" });
        var id = created.GetProperty("id").GetString()!;

        // The lease says what it records (docs/api.md: GET shows `record` as given), so a lease that silently dropped
        // the request would fail here rather than look like a capture bug later.
        var shown = await relay.GetConnectionAsync(id);
        if (recordArtifacts)
        {
            Assert.True(shown.TryGetProperty("record", out var record) && record.GetProperty("artifacts").GetBoolean(), $"The lease does not show record.artifacts: {shown}");
        }
        else
        {
            Assert.False(shown.TryGetProperty("record", out var record) && record.ValueKind == JsonValueKind.Object, $"A lease created without record shows one: {shown}");
        }

        return (id, new Uri(created.GetProperty("endpoint").GetProperty("url").GetString()!));
    }

    /// <summary>One page of the runtime's artifacts (oldest first), filtered as the query says.</summary>
    public static async Task<JsonElement[]> ListAsync(RelayServer relay, string? connectionId = null, string? kind = null)
    {
        var query = new List<string>();
        if (connectionId is not null)
        {
            query.Add("connectionId=" + Uri.EscapeDataString(connectionId));
        }

        if (kind is not null)
        {
            query.Add("kind=" + Uri.EscapeDataString(kind));
        }

        var url = $"v1/runtimes/{Relays.RuntimeId}/artifacts" + (query.Count == 0 ? string.Empty : "?" + string.Join('&', query));
        using var response = await relay.Http.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url} answered {(int)response.StatusCode}: {text}");
        using var json = JsonDocument.Parse(text);
        return [.. json.RootElement.GetProperty("data").EnumerateArray().Select(e => e.Clone())];
    }

    /// <summary>Polls the list until <paramref name="done"/> holds (bounded by <see cref="StoreWait"/>); returns that list.</summary>
    public static async Task<JsonElement[]> WaitForListAsync(
        RelayServer relay, Func<JsonElement[], bool> done, string expectation, string? connectionId = null, string? kind = null)
    {
        var deadline = DateTime.UtcNow + StoreWait;
        while (true)
        {
            var list = await ListAsync(relay, connectionId, kind);
            if (done(list))
            {
                return list;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The artifact list never held {expectation} within {StoreWait}; it holds [{string.Join(", ", list.Select(e => e.GetRawText()))}]");
            await Task.Delay(100);
        }
    }

    /// <summary>GETs one artifact's bytes; asserts the headers that keep a browser from running them.</summary>
    public static async Task<(byte[] Bytes, string? ContentType)> GetBytesAsync(RelayServer relay, JsonElement artifact)
    {
        var id = artifact.GetProperty("id").GetString()!;
        using var response = await relay.Http.GetAsync($"v1/runtimes/{Relays.RuntimeId}/artifacts/{id}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET artifact {id} answered {(int)response.StatusCode}.");
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        return (await response.Content.ReadAsByteArrayAsync(), response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>
    /// The value of <c>bctrl_relay_artifacts_{stored|lost}_total</c> for one label (like <c>reason="download_unreachable"</c>),
    /// read in process from the relay's counts: the tests' relays share one process and the meter's name, so a scrape of
    /// one may show another's instruments.
    /// </summary>
    public static Task<long> ReadCounterAsync(RelayServer relay, string metric, string label)
    {
        var queue = relay.Services.GetRequiredService<Bctrl.Relay.Artifacts.ArtifactQueue>();
        var name = label[(label.IndexOf('"', StringComparison.Ordinal) + 1)..^1];
        return Task.FromResult(metric == "stored" ? queue.Stored(name) : queue.Lost(name));
    }

    /// <summary>Polls the counter until it reads at least <paramref name="atLeast"/> (bounded by <see cref="StoreWait"/>); returns what it read.</summary>
    public static async Task<long> WaitForCounterAsync(RelayServer relay, string metric, string label, long atLeast)
    {
        var deadline = DateTime.UtcNow + StoreWait;
        while (true)
        {
            var value = await ReadCounterAsync(relay, metric, label);
            if (value >= atLeast)
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"bctrl_relay_artifacts_{metric}_total{{{label}}} never reached {atLeast} within {StoreWait}; it reads {value}.");
            await Task.Delay(100);
        }
    }

    /// <summary>The fields every artifact record has, checked against the lease and attach it must come from.</summary>
    public static void AssertRecord(JsonElement artifact, string connectionId, string kind, string method)
    {
        Assert.Equal(32, artifact.GetProperty("id").GetString()!.Length);
        Assert.Equal(Relays.RuntimeId, artifact.GetProperty("runtimeId").GetString());
        Assert.Equal(connectionId, artifact.GetProperty("connectionId").GetString());
        Assert.True(artifact.GetProperty("attachId").GetInt64() > 0, artifact.GetRawText());
        Assert.Equal(kind, artifact.GetProperty("kind").GetString());
        Assert.Equal(method, artifact.GetProperty("method").GetString());
        Assert.True(artifact.GetProperty("size").GetInt64() > 0, artifact.GetRawText());
        var created = artifact.GetProperty("createdAt").GetDateTimeOffset();
        Assert.True(created > DateTimeOffset.UtcNow.AddMinutes(-5) && created <= DateTimeOffset.UtcNow.AddSeconds(5), $"createdAt {created:O} is not about now.");
    }
}
