using Bctrl.Relay.FleetTests.Infrastructure;
using Bctrl.Relay.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Bctrl.Relay.FleetTests;

/// <summary>Issue 3: 10,000 revocations held by a node cost under 2 MiB.</summary>
public sealed class MemoryTests(RedisFixture fixture, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private const int Revocations = 10_000;
    private const long Budget = 2 * 1024 * 1024;

    [Fact(Timeout = 90_000)]
    public async Task Ten_thousand_revocations_held_by_a_node_cost_under_2_MiB()
    {
        var ids = Enumerable.Range(0, Revocations).Select(_ => Guid.CreateVersion7()).ToArray();
        var fleet = await Fleet.StartAsync(fixture.Redis.Configuration, nodes: 2);
        FleetSnapshot snapshot;
        try
        {
            var expires = DateTimeOffset.UtcNow.AddMinutes(30);
            var viewA = Fleet.View(fleet.A);
            foreach (var chunk in ids.Chunk(500))
            {
                await Task.WhenAll(chunk.Select(id => viewA.RevokeAsync(id, expires, terminate: false, CancellationToken.None).AsTask()));
            }

            // Node B got all of them through the channel.
            var viewB = Fleet.State(fleet.B).Revocations;
            await Eventually.HoldsAsync(() => viewB.Count == Revocations, TimeSpan.FromSeconds(20), "B holds every revocation");
            Assert.True(ids.All(viewB.IsRevoked));

            // A real snapshot of them, as a node reads it after a reconnect.
            var state = Fleet.State(fleet.B);
            snapshot = await new FleetWriter(state.Connections, state.Keys, "memory", TimeProvider.System).SnapshotAsync();
            Assert.Equal(Revocations, snapshot.Revocations.Count);
        }
        finally
        {
            // Measured with the relays gone, so that nothing else allocates meanwhile.
            await fleet.DisposeAsync();
        }

        var (allocated, held, view) = Measure(snapshot);
        Assert.Equal(Revocations, view.Count);
        Assert.True(view.IsRevoked(ids[1234]));
        output.WriteLine($"{Revocations} revocations: {allocated / 1024.0:F0} KiB allocated building the view, {held / 1024.0:F0} KiB held after a full GC "
            + $"({held / (double)Revocations:F0} B each; budget {Budget / 1024} KiB)");
        Console.WriteLine($"[memory] 10,000 revocations: {allocated / 1024.0:F0} KiB allocated, {held / 1024.0:F0} KiB held");
        Assert.True(allocated < Budget, $"{allocated} B allocated");
        Assert.True(held < Budget, $"{held} B held");
    }

    /// <summary>Builds the view from the snapshot; returns bytes allocated on this thread and bytes still held after a full GC.</summary>
    private static (long Allocated, long Held, RedisRevocationView View) Measure(FleetSnapshot snapshot)
    {
        var view = new RedisRevocationView(null!, TimeProvider.System, TimeSpan.FromMinutes(1), NullLogger.Instance);
        var heldBefore = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        view.Replace(snapshot.Revocations, merge: false);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var held = GC.GetTotalMemory(forceFullCollection: true) - heldBefore;
        GC.KeepAlive(snapshot);
        return (allocated, held, view);
    }
}
