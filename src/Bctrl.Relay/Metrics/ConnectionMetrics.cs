using System.Diagnostics.Metrics;
using Bctrl.Relay.Hosting.Transport;

namespace Bctrl.Relay.Metrics;

/// <summary>
/// The node's connection budget on the relay's one meter (issue 8): how many client connections the data plane holds
/// against its limit, and how many were answered 503 <c>at_capacity</c> by a listener (at the limit, or with no
/// descriptor left). Capacity planning reads the ratio of the first two.
/// </summary>
internal sealed class ConnectionMetrics
{
    public ConnectionMetrics(RelayMetrics relay, ConnectionBudget budget)
    {
        var meter = relay.Meter;
        meter.CreateObservableUpDownCounter("bctrl.relay.connections", () => budget.DataPlane, "{connection}",
            "Client connections the data-plane listeners hold now (attaches, requests and idle connections).");
        meter.CreateObservableGauge("bctrl.relay.connections.limit", () => budget.DataPlaneLimit, "{connection}",
            "The data plane's connection limit: Relay:Limits:MaxConnections, or derived from the file limit.");
        meter.CreateObservableCounter("bctrl.relay.connections.refused", () => budget.Refused, "{connection}",
            "Connections a listener answered 503 at_capacity and closed: at the connection limit, or with no descriptor left.");
    }
}
