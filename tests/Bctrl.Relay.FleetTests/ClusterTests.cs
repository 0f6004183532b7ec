using Bctrl.Relay.FleetTests.Infrastructure;
using Xunit.Abstractions;

namespace Bctrl.Relay.FleetTests;

/// <summary>The fleet scenarios on a three-master Redis Cluster: the hash tags keep every script on one shard.</summary>
public sealed class ClusterTests(RedisClusterFixture cluster, ITestOutputHelper output) : FleetScenarios(output), IClassFixture<RedisClusterFixture>
{
    protected override string Redis => cluster.Cluster.Configuration;

    protected override string Label => "Redis Cluster";
}
