using System.Net.Http.Json;
using System.Text.Json;
using Bctrl.Relay.FleetTests.Infrastructure;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FleetTests;

/// <summary>docs/api.md, "Pagination": with the Redis stores, a cursor one node handed out works on another.</summary>
public sealed class PaginationTests(RedisFixture fixture) : IClassFixture<RedisFixture>
{
    [Fact(Timeout = 60_000)]
    public async Task Pages_of_two_read_alternately_from_two_nodes_list_each_runtime_and_connection_once()
    {
        await using var fleet = await Fleet.StartAsync(fixture.Redis.Configuration, nodes: 2);
        foreach (var id in new[] { "d", "b", "e", "a" })
        {
            await fleet.A.PutRuntimeAsync(id, fleet.Runtime.WebSocketUrl);
        }

        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((await fleet.CreateLeaseAsync(fleet.A)).Id.ToString());
        }

        var runtimes = await ReadAlternatelyAsync(fleet, "v1/runtimes");
        var connections = await ReadAlternatelyAsync(fleet, $"v1/runtimes/{Fleet.RuntimeId}/connections");

        Assert.Equal(["a", "b", "d", "e", Fleet.RuntimeId], runtimes);
        Assert.Equal(5, connections.Count);
        Assert.Equal(created.Order(StringComparer.Ordinal), connections.Order(StringComparer.Ordinal));
        using var whole = await fleet.B.Http.GetFromJsonAsync<JsonDocument>($"v1/runtimes/{Fleet.RuntimeId}/connections");
        Assert.Equal(whole!.RootElement.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("id").GetString()!), connections);
    }

    /// <summary>Pages of two, the first from node A, the next from B, and so on; every id listed.</summary>
    private static async Task<List<string>> ReadAlternatelyAsync(Fleet fleet, string path)
    {
        var ids = new List<string>();
        string? cursor = null;
        var node = 0;
        do
        {
            RelayServer relay = fleet.Relays[node++ % 2];
            var query = cursor is null ? "?limit=2" : $"?limit=2&cursor={Uri.EscapeDataString(cursor)}";
            using var page = await relay.Http.GetFromJsonAsync<JsonDocument>(path + query);
            var data = page!.RootElement.GetProperty("data").EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToArray();
            Assert.InRange(data.Length, 1, 2);
            ids.AddRange(data);
            cursor = page.RootElement.TryGetProperty("nextCursor", out var next) ? next.GetString() : null;
            Assert.True(node < 100, "nextCursor never ends");
        }
        while (cursor is not null);

        return ids;
    }
}
