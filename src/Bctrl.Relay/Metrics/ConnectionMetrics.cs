using System.Diagnostics.Metrics;
using Bctrl.Relay.Hosting.Transport;
using Bctrl.Relay.Loops;

namespace Bctrl.Relay.Metrics;

/// <summary>
/// The node's connection budget on the relay's one meter (issue 8): how many client connections the data plane holds
/// against its limit, and how many were answered 503 <c>at_capacity</c> by a listener (at the limit, or with no
/// descriptor left). Capacity planning reads the ratio of the first two. On the relay transport (issue 9), the live
/// attaches of each I/O loop too, so an operator sees them spread over the loops.
/// </summary>
internal sealed class ConnectionMetrics
{
    public ConnectionMetrics(RelayMetrics relay, ConnectionBudget budget, IoLoops? loops = null)
    {
        var meter = relay.Meter;
        meter.CreateObservableUpDownCounter("bctrl.relay.connections", () => budget.DataPlane, "{connection}",
            "Client connections the data-plane listeners hold now (attaches, requests and idle connections).");
        meter.CreateObservableGauge("bctrl.relay.connections.limit", () => budget.DataPlaneLimit, "{connection}",
            "The data plane's connection limit: Relay:Limits:MaxConnections, or derived from the file limit.");
        meter.CreateObservableCounter("bctrl.relay.connections.refused", () => budget.Refused, "{connection}",
            "Connections a listener answered 503 at_capacity and closed: at the connection limit, or with no descriptor left.");
        if (loops is not null)
        {
            var labels = loops.All.Select(loop => new KeyValuePair<string, object?>("loop", loop.Index.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();
            meter.CreateObservableGauge("bctrl.relay.io_loop.attaches", () => loops.All.Select(loop => new Measurement<int>(loop.Attaches, labels[loop.Index])), "{attach}",
                "Live attaches spliced on each of the relay transport's I/O loops.");
        }
    }
}
