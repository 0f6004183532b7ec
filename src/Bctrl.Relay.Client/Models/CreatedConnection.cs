namespace Bctrl.Relay.Client;

/// <summary>A new connection (lease), with the URL a CDP client attaches to. The URL carries the lease's token: it is
/// shown in this answer only, and whoever holds it can attach until the lease expires or is deleted.</summary>
/// <param name="Id">The connection id.</param>
/// <param name="RuntimeId">The runtime the lease opens.</param>
/// <param name="Protocol"><c>cdp</c> or <c>live</c>.</param>
/// <param name="CreatedAt">When the lease was made.</param>
/// <param name="ExpiresAt">When its URL stops admitting attaches.</param>
/// <param name="Endpoint">Where to attach.</param>
/// <param name="Scope">The one page a scoped lease reaches, or null.</param>
/// <param name="Policy">The lease's CDP method policy, or null.</param>
/// <param name="Interactive">For a live lease, whether it forwards input; null for CDP leases.</param>
/// <param name="Quotas">The lease's quotas, or null.</param>
/// <param name="Record">What the lease records beyond events (artifacts), or null.</param>
public sealed record CreatedConnection(
    Guid Id, string RuntimeId, string Protocol, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, ConnectionEndpoint Endpoint,
    ConnectionScope? Scope = null, ConnectionPolicy? Policy = null, bool? Interactive = null, ConnectionQuotas? Quotas = null, ConnectionRecording? Record = null);
