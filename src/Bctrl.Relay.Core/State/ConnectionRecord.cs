using Bctrl.Relay.Leases;

namespace Bctrl.Relay.State;

/// <summary>A lease into one runtime. The token is never stored: it is shown once, in the answer that creates it.</summary>
/// <param name="ScopeTarget">The one target the lease may attach to (docs/scope.md); null for the whole browser.</param>
/// <param name="Quotas">The lease's quotas in their stored form (<see cref="Policy.LeaseQuotas.Text"/>, docs/quotas.md); null for none.</param>
/// <param name="Artifacts">Whether attaches of the lease keep artifacts (docs/artifacts.md).</param>
/// <param name="Policy">The lease's CDP method policy in its stored form (<see cref="Policy.MethodPolicy.Text"/>, docs/policy.md); null for none.</param>
internal sealed record ConnectionRecord(
    Guid Id,
    string RuntimeId,
    LeaseProtocol Protocol,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? DeletedAt,
    string? ScopeTarget = null,
    string? Policy = null,
    string? Quotas = null,
    bool Artifacts = false);
