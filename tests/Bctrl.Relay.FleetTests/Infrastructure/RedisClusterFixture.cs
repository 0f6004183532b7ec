namespace Bctrl.Relay.FleetTests.Infrastructure;

/// <summary>One three-master Redis Cluster shared by the tests of a class.</summary>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    public RedisClusterProcess Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await RedisClusterProcess.StartAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
