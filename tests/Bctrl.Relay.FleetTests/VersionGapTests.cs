using System.Diagnostics;
using Bctrl.Relay.FleetTests.Infrastructure;
using Bctrl.Relay.Redis;
using Xunit.Abstractions;

namespace Bctrl.Relay.FleetTests;

/// <summary>docs/design.md §5: versioned updates, and a resync on a version gap, whether a message skips one or the ping finds one.</summary>
public sealed class VersionGapTests(RedisFixture fixture, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    [Fact(Timeout = 60_000)]
    public async Task A_change_whose_message_was_lost_is_found_by_the_next_ping_and_read_by_a_resync()
    {
        await using var fleet = await Fleet.StartAsync(fixture.Redis.Configuration, nodes: 2);
        var keys = Fleet.State(fleet.A).Keys;
        var gapsBefore = Fleet.State(fleet.B).Sync.Resyncs(ResyncReason.Gap);

        // A revocation written and versioned, but never published: as if its message had been lost on the way.
        var lost = Guid.CreateVersion7();
        var pruneAfter = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
        await fixture.Redis.CliAsync("ZADD", (string)keys.Fleet[2]!, pruneAfter.ToString(System.Globalization.CultureInfo.InvariantCulture), lost.ToString("N"));
        await fixture.Redis.CliAsync("INCR", (string)keys.Fleet[1]!);
        var watch = Stopwatch.StartNew();

        await Eventually.HoldsAsync(() => fleet.Relays.All(r => Fleet.View(r).IsRevoked(lost)), TimeSpan.FromSeconds(3), "every node finds the lost change");
        output.WriteLine($"lost message recovered by the ping after {watch.Elapsed.TotalMilliseconds:F0} ms (confirm interval 1 s)");
        Assert.True(Fleet.State(fleet.B).Sync.Resyncs(ResyncReason.Gap) > gapsBefore);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_message_that_skips_a_version_makes_the_node_read_the_view_whole()
    {
        await using var fleet = await Fleet.StartAsync(fixture.Redis.Configuration, nodes: 1);
        var keys = Fleet.State(fleet.A).Keys;
        var gapsBefore = Fleet.State(fleet.A).Sync.Resyncs(ResyncReason.Gap);
        var epoch = (await fixture.Redis.CliAsync("GET", (string)keys.Fleet[0]!)).Trim();
        var version = long.Parse((await fixture.Redis.CliAsync("GET", (string)keys.Fleet[1]!)).Trim(), System.Globalization.CultureInfo.InvariantCulture);

        // Two changes in Redis; only the second one's message arrives.
        var first = Guid.CreateVersion7();
        var second = Guid.CreateVersion7();
        var pruneAfter = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await fixture.Redis.CliAsync("ZADD", (string)keys.Fleet[2]!, pruneAfter, first.ToString("N"), pruneAfter, second.ToString("N"));
        await fixture.Redis.CliAsync("INCRBY", (string)keys.Fleet[1]!, "2");
        await fixture.Redis.CliAsync("PUBLISH", keys.ChannelName, $"r {epoch} {version + 2} elsewhere {second:N} {pruneAfter} 0");

        await Eventually.HoldsAsync(() => Fleet.View(fleet.A).IsRevoked(first) && Fleet.View(fleet.A).IsRevoked(second), TimeSpan.FromSeconds(3), "both changes");
        Assert.True(Fleet.State(fleet.A).Sync.Resyncs(ResyncReason.Gap) > gapsBefore);
    }

    [Theory(Timeout = 10_000)]
    [InlineData("r e1 7 n1 0190a1b2c3d4e5f60718293a4b5c6d7e 1700000000 1", 'r', 7, 3)]
    [InlineData("u e1 8 n1 rt-1 1700000000000 ws://10.0.0.1:9222/devtools/browser/x", 'u', 8, 3)]
    [InlineData("d e1 9 n1 rt-1", 'd', 9, 1)]
    [InlineData("b e1 10 n1", 'b', 10, 0)]
    [InlineData("p e1 10 n1 42", 'p', 10, 1)]
    public Task Messages_parse(string text, char kind, long version, int fields)
    {
        Assert.True(FleetMessage.TryParse(text, out var message));
        Assert.Equal((kind, "e1", version, "n1", fields), (message.Kind, message.Epoch, message.Version, message.Node, message.Fields.Length));
        return Task.CompletedTask;
    }

    [Theory(Timeout = 10_000)]
    [InlineData("")]
    [InlineData("r e1 x n1 id 1 0")]
    [InlineData("r e1 7 n1 id 1")]
    [InlineData("x e1 7 n1")]
    [InlineData("rr e1 7 n1 id 1 0")]
    [InlineData("d e1 -1 n1 rt")]
    public Task Malformed_messages_are_refused(string text)
    {
        Assert.False(FleetMessage.TryParse(text, out _));
        return Task.CompletedTask;
    }
}
