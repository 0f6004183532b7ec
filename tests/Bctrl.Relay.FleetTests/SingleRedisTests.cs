using Bctrl.Relay.FleetTests.Infrastructure;
using Xunit.Abstractions;

namespace Bctrl.Relay.FleetTests;

/// <summary>The fleet scenarios on one redis-server.</summary>
public sealed class SingleRedisTests(RedisFixture redis, ITestOutputHelper output) : FleetScenarios(output), IClassFixture<RedisFixture>
{
    protected override string Redis => redis.Redis.Configuration;

    protected override string Label => "single Redis";
}
