using System.Net.Http.Json;
using System.Text.Json;
using Bctrl.Relay.FunctionalTests.Control;
using Bctrl.Relay.Observation;
using Bctrl.Relay.State;
using Bctrl.Relay.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bctrl.Relay.FunctionalTests.Api;

/// <summary>docs/api.md, "Pagination": <c>limit</c> (1–1000, default 100), an opaque <c>cursor</c>, <c>nextCursor</c> until the last page.</summary>
public sealed class PaginationTests
{
    [Fact(Timeout = 30_000)]
    public async Task Pages_of_two_over_five_runtimes_list_each_once_in_id_order()
    {
        await using var relay = await RelayServer.StartAsync();
        string[] ids = ["e", "b", "d", "a", "c"];
        foreach (var id in ids)
        {
            await relay.PutRuntimeAsync(id, new Uri("ws://127.0.0.1:9/devtools/browser/x"));
        }

        var pages = await ReadAllAsync(relay, "v1/runtimes", limit: 2);

        Assert.Equal([2, 2, 1], pages.Select(p => p.Count));
        Assert.Equal(["a", "b", "c", "d", "e"], pages.SelectMany(p => p).Select(e => e.GetProperty("id").GetString()));
    }

    [Fact(Timeout = 30_000)]
    public async Task Pages_of_two_over_five_connections_list_each_once_newest_first_as_the_whole_list_does()
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync("r", new Uri("ws://127.0.0.1:9/devtools/browser/x"));
        for (var i = 0; i < 5; i++)
        {
            await relay.CreateConnectionAsync("r");
        }

        var whole = await ReadAllAsync(relay, "v1/runtimes/r/connections", limit: null);
        var pages = await ReadAllAsync(relay, "v1/runtimes/r/connections", limit: 2);

        Assert.Equal([5], whole.Select(p => p.Count));
        Assert.Equal([2, 2, 1], pages.Select(p => p.Count));
        var paged = pages.SelectMany(p => p).Select(e => e.GetProperty("id").GetString()).ToArray();
        Assert.Equal(whole[0].Select(e => e.GetProperty("id").GetString()), paged);
        Assert.Equal(5, paged.Distinct().Count());
    }

    [Fact(Timeout = 30_000)]
    public async Task Pages_of_two_over_five_attaches_list_each_once_oldest_first()
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync("r", new Uri("ws://127.0.0.1:9/devtools/browser/x"));
        var (connectionId, _) = await relay.CreateConnectionAsync("r");
        var store = relay.Services.GetRequiredService<IAttachRecordStore>();
        var opened = DateTimeOffset.UtcNow;
        // Two attaches opened in the same tick: the attach id breaks the tie.
        long[] attachIds = [30, 10, 20, 50, 40];
        foreach (var attachId in attachIds)
        {
            await store.SaveAsync(
                new AttachRecord { AttachId = attachId, ConnectionId = Guid.Parse(connectionId), RuntimeId = "r", OpenedAt = opened.AddTicks(attachId is 10 or 20 ? 0 : attachId) },
                CancellationToken.None);
        }

        var pages = await ReadAllAsync(relay, $"v1/runtimes/r/connections/{connectionId}/attaches", limit: 2);

        Assert.Equal([2, 2, 1], pages.Select(p => p.Count));
        Assert.Equal([10L, 20, 30, 40, 50], pages.SelectMany(p => p).Select(e => e.GetProperty("attachId").GetInt64()));
    }

    [Fact(Timeout = 30_000)]
    public async Task The_default_limit_is_100()
    {
        await using var relay = await RelayServer.StartAsync();
        var runtimes = relay.Services.GetRequiredService<IRuntimeStore>();
        for (var i = 0; i < 101; i++)
        {
            await runtimes.PutAsync(new RuntimeRecord($"rt-{i:D3}", new Uri("ws://127.0.0.1:9/"), DateTimeOffset.UtcNow), CancellationToken.None);
        }

        var pages = await ReadAllAsync(relay, "v1/runtimes", limit: null);

        Assert.Equal([100, 1], pages.Select(p => p.Count));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("limit=0")]
    [InlineData("limit=1001")]
    [InlineData("limit=-1")]
    [InlineData("limit=1.5")]
    [InlineData("limit=ten")]
    [InlineData("limit=")]
    [InlineData("limit=1&limit=2")]
    [InlineData("cursor=not-a-cursor")]
    [InlineData("cursor=%25%25")]
    [InlineData("cursor=cjp4&cursor=cjp4")]
    public async Task A_bad_limit_or_cursor_is_400_invalid_query_on_every_list(string query)
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync("r", new Uri("ws://127.0.0.1:9/devtools/browser/x"));
        var (connectionId, _) = await relay.CreateConnectionAsync("r");

        foreach (var list in new[] { "v1/runtimes", "v1/runtimes/r/connections", $"v1/runtimes/r/connections/{connectionId}/attaches" })
        {
            using var response = await relay.Http.GetAsync($"{list}?{query}");
            await ApiAssert.ErrorAsync(response, 400, "invalid_query");
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task A_cursor_of_one_list_is_refused_by_another()
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync("a", new Uri("ws://127.0.0.1:9/devtools/browser/x"));
        await relay.PutRuntimeAsync("b", new Uri("ws://127.0.0.1:9/devtools/browser/x"));
        using var first = await relay.Http.GetFromJsonAsync<JsonDocument>("v1/runtimes?limit=1");
        var cursor = first!.RootElement.GetProperty("nextCursor").GetString();

        using var response = await relay.Http.GetAsync($"v1/runtimes/a/connections?cursor={Uri.EscapeDataString(cursor!)}");

        await ApiAssert.ErrorAsync(response, 400, "invalid_query");
    }

    /// <summary>Follows <c>nextCursor</c> to the last page; each page's items.</summary>
    private static async Task<List<List<JsonElement>>> ReadAllAsync(RelayServer relay, string path, int? limit)
    {
        var pages = new List<List<JsonElement>>();
        string? cursor = null;
        do
        {
            var query = new List<string>();
            if (limit is { } l)
            {
                query.Add($"limit={l}");
            }

            if (cursor is not null)
            {
                query.Add($"cursor={Uri.EscapeDataString(cursor)}");
            }

            using var json = await relay.Http.GetFromJsonAsync<JsonDocument>(query.Count == 0 ? path : $"{path}?{string.Join('&', query)}");
            var root = json!.RootElement;
            pages.Add([.. root.GetProperty("data").EnumerateArray().Select(e => e.Clone())]);
            cursor = root.TryGetProperty("nextCursor", out var next) ? next.GetString() : null;
            Assert.True(pages.Count <= 1000, "nextCursor never ends");
        }
        while (cursor is not null);

        return pages;
    }
}
