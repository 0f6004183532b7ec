namespace Bctrl.Relay.Client;

/// <summary>A connection (lease) as the relay lists it: never its URL, which is shown once, on creation.</summary>
/// <param name="Id">The connection id.</param>
/// <param name="RuntimeId">The runtime the lease opens.</param>
/// <param name="Protocol"><c>cdp</c> or <c>live</c>.</param>
/// <param name="CreatedAt">When the lease was made.</param>
/// <param name="ExpiresAt">When its URL stops admitting attaches.</param>
/// <param name="State"><c>active</c>, <c>expired</c> or <c>deleted</c>.</param>
/// <param name="Attaches">Live and total attaches made with the lease.</param>
/// <param name="Scope">The one page a scoped lease reaches, or null.</param>
/// <param name="Policy">The lease's CDP method policy, or null.</param>
/// <param name="Interactive">For a live lease, whether it forwards input; null for CDP leases.</param>
/// <param name="Quotas">The lease's quotas, or null.</param>
/// <param name="Record">What the lease records beyond events (artifacts), or null.</param>
public sealed record Connection(
    Guid Id, string RuntimeId, string Protocol, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, string State, AttachCounts Attaches,
    ConnectionScope? Scope = null, ConnectionPolicy? Policy = null, bool? Interactive = null, ConnectionQuotas? Quotas = null, ConnectionRecording? Record = null);
