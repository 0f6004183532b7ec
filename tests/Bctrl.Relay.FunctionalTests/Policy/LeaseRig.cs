using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Policy;

/// <summary>A relay, a fake runtime and one lease created with a body of the test's (a policy, quotas, or neither).</summary>
internal sealed class LeaseRig : IAsyncDisposable
{
    public const string RuntimeId = SpliceHarness.RuntimeId;

    private LeaseRig(RelayServer relay, FakeRuntime runtime, string connectionId, Uri endpoint)
    {
        Relay = relay;
        Runtime = runtime;
        ConnectionId = connectionId;
        Endpoint = endpoint;
    }

    public RelayServer Relay { get; }

    public FakeRuntime Runtime { get; }

    public string ConnectionId { get; }

    public Uri Endpoint { get; }

    public static async Task<LeaseRig> StartAsync(object body)
    {
        var runtime = FakeRuntime.Start();
        var relay = await RelayServer.StartAsync();
        try
        {
            await relay.PutRuntimeAsync(RuntimeId, runtime.WebSocketUrl);
            var created = await relay.CreateConnectionAsync(RuntimeId, body);
            return new LeaseRig(relay, runtime, created.GetProperty("id").GetString()!, new Uri(created.GetProperty("endpoint").GetProperty("url").GetString()!));
        }
        catch
        {
            await relay.DisposeAsync();
            await runtime.DisposeAsync();
            throw;
        }
    }

    public async Task<(RawClient Client, FakeRuntimeConnection Runtime)> AttachAsync()
    {
        var client = await RawClient.OpenAsync(Endpoint);
        var runtime = await Runtime.NextConnectionAsync();
        return (client, runtime);
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

    public async ValueTask DisposeAsync()
    {
        await Relay.DisposeAsync();
        await Runtime.DisposeAsync();
    }
}
