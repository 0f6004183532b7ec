using System.Diagnostics.Metrics;
using Bctrl.Relay.Redis;

namespace Bctrl.Relay.Metrics;

/// <summary>
/// Instruments of the Redis-backed state (docs/design.md §7), on the relay's one meter: whether each Redis connection is up,
/// how often the revocation view was read whole again and why, and how many revocations it holds. The view's age is
/// in <see cref="RelayMetrics"/>, with or without Redis; refusals by reason are <c>bctrl.relay.attach.attempts</c>.
/// </summary>
internal sealed class FleetMetrics
{
    private static readonly KeyValuePair<string, object?> State = new("connection", "state");
    private static readonly KeyValuePair<string, object?> Side = new("connection", "side");

    private static readonly (ResyncReason Reason, KeyValuePair<string, object?> Tag)[] Reasons = Enum.GetValues<ResyncReason>()
        .Select(r => (r, new KeyValuePair<string, object?>("reason", r.ToString().ToLowerInvariant())))
        .ToArray();

    private readonly RedisFleet _fleet;

    public FleetMetrics(RelayMetrics relay, RedisFleet fleet)
    {
        _fleet = fleet;
        var meter = relay.Meter;
        meter.CreateObservableGauge("bctrl.relay.redis.up", ObserveUp, "{connection}",
            "1 while the node's Redis connection is up, by connection: state (stores, channel) and side (pings, counts).");
        meter.CreateObservableCounter("bctrl.relay.revocations.resyncs", ObserveResyncs, "{resync}",
            "Times the revocation view was read whole from Redis, by reason: start, reconnect, gap, epoch (Redis lost the state), bulk, overflow.");
        meter.CreateObservableGauge("bctrl.relay.revocations.held", () => _fleet.Revocations.Count, "{revocation}",
            "Revocations held in this node's view.");
    }

    private Measurement<int>[] ObserveUp() =>
    [
        new(RedisConnections.IsUp(_fleet.Connections.State) ? 1 : 0, State),
        new(RedisConnections.IsUp(_fleet.Connections.Side) ? 1 : 0, Side),
    ];

    private IEnumerable<Measurement<long>> ObserveResyncs()
        => Reasons.Select(r => new Measurement<long>(_fleet.Sync.Resyncs(r.Reason), r.Tag));
}
