using System.Net;
using Bctrl.Relay.Attach;
using Bctrl.Relay.Redis;
using Bctrl.Relay.State;
using Bctrl.Relay.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bctrl.Relay.FleetTests.Infrastructure;

/// <summary>
/// Relays in this process sharing one Redis (or cluster), and an echoing fake runtime registered as <see cref="RuntimeId"/>.
/// Each fleet uses its own key prefix, so fleets on one Redis never see each other.
/// </summary>
internal sealed class Fleet : IAsyncDisposable
{
    public const string RuntimeId = "fleet-runtime";

    private Fleet(RelayServer[] relays, FakeRuntime runtime)
    {
        Relays = relays;
        Runtime = runtime;
    }

    public IReadOnlyList<RelayServer> Relays { get; }

    public FakeRuntime Runtime { get; }

    public RelayServer A => Relays[0];

    public RelayServer B => Relays[1];

    public RelayServer C => Relays[2];

    public static async Task<Fleet> StartAsync(string redis, int nodes = 3, IDictionary<string, string?>? settings = null, bool registerRuntime = true)
    {
        var prefix = "t" + Guid.NewGuid().ToString("N")[..10];
        var runtime = FakeRuntime.Start();
        runtime.Echo = true;
        var relays = new RelayServer[nodes];
        for (var i = 0; i < nodes; i++)
        {
            relays[i] = await RelayServer.StartAsync(Settings(redis, prefix, settings));
        }

        var fleet = new Fleet(relays, runtime);
        await fleet.WaitReadyAsync(TimeSpan.FromSeconds(10));
        if (registerRuntime)
        {
            await fleet.A.PutRuntimeAsync(RuntimeId, runtime.WebSocketUrl);
        }

        return fleet;
    }

    public static Dictionary<string, string?> Settings(string redis, string prefix, IDictionary<string, string?>? extra = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Relay:Redis"] = redis,
            ["Relay:Fleet:KeyPrefix"] = prefix,
            ["Relay:KeepAlive:Interval"] = "00:10:00",
            ["Relay:KeepAlive:Timeout"] = "00:10:00",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        return values;
    }

    public static IRevocationView View(RelayServer relay) => relay.Services.GetRequiredService<IRevocationView>();

    public static RedisFleet State(RelayServer relay) => relay.Services.GetRequiredService<RedisFleet>();

    public static AttachRegistry Registry(RelayServer relay) => relay.Services.GetRequiredService<AttachRegistry>();

    public static async Task<bool> IsReadyAsync(RelayServer relay)
    {
        using var response = await relay.Http.GetAsync("readyz");
        return response.StatusCode == HttpStatusCode.OK;
    }

    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var relay in Relays)
        {
            while (!await IsReadyAsync(relay))
            {
                Assert.True(DateTime.UtcNow < deadline, "a relay did not become ready");
                await Task.Delay(20);
            }
        }
    }

    /// <summary>A lease made on <paramref name="on"/>: its id and endpoint URL (whose token attaches on any node).</summary>
    public async Task<(Guid Id, Uri Endpoint)> CreateLeaseAsync(RelayServer on, int ttlSeconds = 300)
    {
        var (id, url) = await on.CreateConnectionAsync(RuntimeId, ttlSeconds);
        return (Guid.Parse(id), url);
    }

    public Task DeleteAsync(RelayServer on, Guid connectionId, bool terminate = false)
        => on.DeleteConnectionAsync(RuntimeId, connectionId.ToString(), terminate);

    public async ValueTask DisposeAsync()
    {
        foreach (var relay in Relays)
        {
            await relay.DisposeAsync();
        }

        await Runtime.DisposeAsync();
    }
}
