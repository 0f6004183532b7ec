namespace Bctrl.Relay.FleetTests.Infrastructure;

/// <summary>One redis-server shared by the tests of a class (each fleet has its own key prefix).</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisProcess Redis { get; private set; } = null!;

    public async Task InitializeAsync() => Redis = await RedisProcess.StartAsync();

    public async Task DisposeAsync() => await Redis.DisposeAsync();
}
