using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary>A relay, a counting runtime registered on it as <see cref="RuntimeId"/>, and helpers to attach.</summary>
internal sealed class AttachRig : IAsyncDisposable
{
    public const string RuntimeId = "rt-1";

    private AttachRig(RelayServer relay, CountingRuntime runtime)
    {
        Relay = relay;
        Runtime = runtime;
    }

    public RelayServer Relay { get; }

    public CountingRuntime Runtime { get; }

    public static async Task<AttachRig> StartAsync(IDictionary<string, string?>? settings = null, bool registerAsHttp = false)
    {
        var runtime = new CountingRuntime();
        try
        {
            var relay = await RelayServer.StartAsync(settings);
            await relay.PutRuntimeAsync(RuntimeId, registerAsHttp ? runtime.HttpUrl : runtime.CdpUrl);
            return new AttachRig(relay, runtime);
        }
        catch
        {
            await runtime.DisposeAsync();
            throw;
        }
    }

    /// <summary>The token in an endpoint URL like <c>ws://host/cdp/TOKEN</c>.</summary>
    public static string TokenOf(Uri endpoint)
    {
        Assert.StartsWith("/cdp/", endpoint.AbsolutePath, StringComparison.Ordinal);
        return endpoint.AbsolutePath["/cdp/".Length..];
    }

    /// <summary>Creates a connection on the rig's runtime; returns its id and token.</summary>
    public async Task<(string Id, string Token)> CreateAsync(int? ttlSeconds = null)
    {
        var (id, url) = await Relay.CreateConnectionAsync(RuntimeId, ttlSeconds);
        return (id, TokenOf(url));
    }

    /// <summary>A proper WebSocket upgrade of <c>/cdp/{token}</c>.</summary>
    public Task<RawResponse> AttachAsync(string token, string suffix = "") => RawHttp.UpgradeAsync(Relay.BaseUrl, $"/cdp/{token}{suffix}");

    /// <summary>Asserts that no upstream connection was opened (after a moment for a late dial to land).</summary>
    public async Task AssertNoUpstreamAsync()
    {
        await Task.Delay(100);
        Assert.Equal(0, Runtime.Accepted);
    }

    public async ValueTask DisposeAsync()
    {
        await Runtime.DisposeAsync();
        await Relay.DisposeAsync();
    }
}
