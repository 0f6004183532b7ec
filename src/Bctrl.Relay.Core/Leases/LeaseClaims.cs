namespace Bctrl.Relay.Leases;

/// <summary>What a token says. Never the runtime's address.</summary>
/// <param name="ScopeTarget">
/// The one target (page) the lease may attach to (docs/scope.md), or <c>null</c> for a lease of the whole browser.
/// </param>
internal readonly record struct LeaseClaims(
    Guid ConnectionId,
    string RuntimeId,
    LeaseProtocol Protocol,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt,
    string? ScopeTarget = null);
