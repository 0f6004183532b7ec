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

    public async ValueTask DisposeAsync()
    {
        await Relay.DisposeAsync();
        await Runtime.DisposeAsync();
    }
}
