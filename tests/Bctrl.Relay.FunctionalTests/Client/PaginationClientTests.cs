using System.Collections.Concurrent;
using Bctrl.Relay.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bctrl.Relay.FunctionalTests.Client;

/// <summary>
/// The pagination contract (<c>cursor</c> in, <c>nextCursor</c> out until the last page): the client's list methods
/// follow it to the end. A Kestrel app on 127.0.0.1:0 serves the pages, since the relay pages only past 100 items.
/// </summary>
public sealed class PaginationClientTests
{
    [Fact(Timeout = 30_000)]
    public async Task ListAsync_follows_nextCursor_to_the_last_page()
    {
        var cursors = new ConcurrentQueue<string>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        app.MapGet("/v1/runtimes", (HttpContext context) =>
        {
            var cursor = context.Request.Query["cursor"].ToString();
            cursors.Enqueue(cursor);
            var body = cursor switch
            {
                "" => """{"data":[{"id":"a","cdpUrl":"ws://h:1/x","createdAt":"2026-01-01T00:00:00Z"}],"nextCursor":"p/2+="}""",
                "p/2+=" => """{"data":[{"id":"b","cdpUrl":"ws://h:1/x","createdAt":"2026-01-01T00:00:00Z"}],"nextCursor":"p3"}""",
                _ => """{"data":[{"id":"c","cdpUrl":"ws://h:1/x","createdAt":"2026-01-01T00:00:00Z"}],"nextCursor":null}""",
            };
            return Results.Text(body, "application/json");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        using var client = new RelayClient(new Uri(address), "key");
        var runtimes = await client.Runtimes.ListAsync();

        Assert.Equal(["a", "b", "c"], runtimes.Select(r => r.Id));
        Assert.Equal(["", "p/2+=", "p3"], cursors);
        await app.StopAsync();
    }
}
