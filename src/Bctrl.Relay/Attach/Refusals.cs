using Bctrl.Relay.Control;
using Bctrl.Relay.Metrics;

namespace Bctrl.Relay.Attach;

/// <summary>
/// The one way the data plane refuses a request (issue 8, finding 8): count it in metrics, add it to the refusal
/// summary, write a Debug line, and answer. Attaches and discovery documents share the lease URL, so a bad-token flood
/// can aim at either; before this, discovery refusals and a bad target id were answered without being counted.
/// </summary>
internal sealed class Refusals(RelayMetrics metrics, RefusalSummary summary, ILogger<Refusals> logger)
{
    public Task RefuseAsync(HttpContext context, RefusedRequest request, ApiError refusal)
    {
        if (request == RefusedRequest.Attach)
        {
            metrics.AttachAttempted(refusal.Code);
        }
        else
        {
            metrics.DiscoveryRefused(refusal.Code);
        }

        summary.Add(request, refusal.Code);
        RelayLog.Refused(logger, request, refusal.Status, refusal.Code);
        return refusal.WriteAsync(context);
    }
}
