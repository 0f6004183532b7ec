using System.Text.Json;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Splice;

/// <summary>
/// One test's world: a real relay on 127.0.0.1:0, a fake runtime registered with it, and one connection (lease).
/// Disposing it stops both.
/// </summary>
internal sealed class SpliceHarness : IAsyncDisposable
{
    public const string RuntimeId = "fake";

    private SpliceHarness(RelayServer relay, FakeRuntime runtime, string connectionId, Uri endpoint)
    {
        Relay = relay;
        Runtime = runtime;
        ConnectionId = connectionId;
        Endpoint = endpoint;
    }

    public RelayServer Relay { get; }

    public FakeRuntime Runtime { get; }

    public string ConnectionId { get; }

    /// <summary>The lease's endpoint, <c>ws://127.0.0.1:PORT/cdp/TOKEN</c>.</summary>
    public Uri Endpoint { get; }

    /// <summary>The lease token: the last segment of the endpoint's path.</summary>
    public string Token => Endpoint.Segments[^1];

    /// <param name="connection">The body that creates the connection (a policy, quotas); a plain CDP lease without.</param>
    public static async Task<SpliceHarness> StartAsync(
        IDictionary<string, string?>? settings = null, FakeRuntime? runtime = null, Func<FakeRuntime, Uri>? cdpUrl = null, object? connection = null)
    {
        runtime ??= FakeRuntime.Start();
        var relay = await RelayServer.StartAsync(settings);
        try
        {
            await relay.PutRuntimeAsync(RuntimeId, cdpUrl?.Invoke(runtime) ?? runtime.WebSocketUrl);
            if (connection is not null)
            {
                var created = await relay.CreateConnectionAsync(RuntimeId, connection);
                return new SpliceHarness(
                    relay, runtime, created.GetProperty("id").GetString()!, new Uri(created.GetProperty("endpoint").GetProperty("url").GetString()!));
            }

            var (connectionId, endpoint) = await relay.CreateConnectionAsync(RuntimeId);
            return new SpliceHarness(relay, runtime, connectionId, endpoint);
        }
        catch
        {
            await relay.DisposeAsync();
            await runtime.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Waits (bounded) until the relay's <c>bctrl_relay_commands_refused_total{reason}</c> reads from
    /// <paramref name="count"/> to <paramref name="atMost"/> (default: exactly <paramref name="count"/>): it is counted
    /// when the attach ends.
    /// </summary>
    public async Task WaitForRefusedAsync(string reason, long count, long? atMost = null)
    {
        var label = $"reason=\"{reason}\"";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var scrape = await Relay.Http.GetStringAsync("/metrics");
            var line = scrape.Split('\n').FirstOrDefault(l => l.StartsWith("bctrl_relay_commands_refused_total{", StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal));
            if (line is not null && long.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) is var value
                && value >= count && value <= (atMost ?? count))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"bctrl_relay_commands_refused_total{{reason={reason}}} never read {count}: {line ?? "absent"}");
            await Task.Delay(100);
        }
    }

    /// <summary>Attaches a raw client and takes the runtime's side of the same attach.</summary>
    public async Task<(RawClient Client, FakeRuntimeConnection Runtime)> AttachAsync(string? extraHeaders = null)
    {
        var client = await RawClient.OpenAsync(Endpoint, extraHeaders);
        var runtime = await Runtime.NextConnectionAsync();
        return (client, runtime);
    }

    /// <summary>Attaches and expects a refusal: an HTTP answer, never a 101.</summary>
    public async Task<RawResponse> AttachRefusedAsync()
    {
        await using var client = await RawClient.ConnectAsync(Endpoint);
        await client.SendUpgradeAsync();
        var response = await client.ReadResponseAsync();
        Assert.NotEqual(101, response.Status);
        return response;
    }

    /// <summary>The connection's <c>attaches</c> counts from <c>GET /v1/runtimes/{id}/connections/{id}</c>.</summary>
    public async Task<(long Live, long Total)> GetAttachCountsAsync()
    {
        using var json = JsonDocument.Parse(await Relay.Http.GetStringAsync($"v1/runtimes/{RuntimeId}/connections/{ConnectionId}"));
        var attaches = json.RootElement.GetProperty("attaches");
        return (attaches.GetProperty("live").GetInt64(), attaches.GetProperty("total").GetInt64());
    }

    /// <summary>Polls the counts until they are as expected (the relay updates them as an attach ends), bounded.</summary>
    public async Task<(long Live, long Total)> WaitForAttachCountsAsync(long live, long total)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var counts = await GetAttachCountsAsync();
            if (counts == (live, total) || DateTime.UtcNow > deadline)
            {
                return counts;
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Waits (bounded) for the relay to log a line containing <paramref name="text"/>.</summary>
    public async Task<string?> WaitForLogAsync(string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var line = Relay.Logs.Lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            await Task.Delay(20);
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await Relay.DisposeAsync();
        await Runtime.DisposeAsync();
    }
}
