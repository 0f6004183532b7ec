using Bctrl.Relay.Metrics;
using Bctrl.Relay.Redis;

namespace Bctrl.Relay.Hosting;

/// <summary>
/// Starts the node's Redis loops without waiting for Redis (a node starts while Redis is down and is simply not ready),
/// and stops them: last attach counts written, the node leaves the fleet's list.
/// </summary>
internal sealed class RedisFleetService(RedisFleet fleet, FleetMetrics metrics) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = metrics; // instruments exist from the start
        fleet.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => fleet.StopAsync();
}
