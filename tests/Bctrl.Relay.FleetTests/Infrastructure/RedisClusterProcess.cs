namespace Bctrl.Relay.FleetTests.Infrastructure;

/// <summary>
/// A Redis Cluster of three masters (no replicas) on loopback: three <c>redis-server --cluster-enabled yes</c> and
/// <c>redis-cli --cluster create</c>. Every slot is served before <see cref="StartAsync"/> returns.
/// </summary>
public sealed class RedisClusterProcess : IAsyncDisposable
{
    private readonly RedisProcess[] _masters;

    private RedisClusterProcess(RedisProcess[] masters) => _masters = masters;

    public IReadOnlyList<RedisProcess> Masters => _masters;

    /// <summary>Every master, so that the client discovers the cluster from any of them.</summary>
    public string Configuration => string.Join(",", _masters.Select(m => m.Configuration));

    public static async Task<RedisClusterProcess> StartAsync()
    {
        var masters = new RedisProcess[3];
        for (var i = 0; i < masters.Length; i++)
        {
            masters[i] = await RedisProcess.StartAsync("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000");
        }

        var cluster = new RedisClusterProcess(masters);
        var created = await RedisProcess.RunAsync(RedisProcess.CliPath,
            ["--cluster", "create", .. masters.Select(m => m.Configuration), "--cluster-replicas", "0", "--cluster-yes"]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var states = await Task.WhenAll(masters.Select(m => m.CliAsync("CLUSTER", "INFO")));
            if (states.All(s => s.Contains("cluster_state:ok", StringComparison.Ordinal)))
            {
                return cluster;
            }

            if (DateTime.UtcNow > deadline)
            {
                await cluster.DisposeAsync();
                throw new InvalidOperationException("The cluster did not come up: " + created);
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var master in _masters)
        {
            await master.DisposeAsync();
        }
    }
}
