namespace Bctrl.Relay.Leases;

/// <summary>What a token says. Never the runtime's address.</summary>
internal readonly record struct LeaseClaims(
    Guid ConnectionId,
    string RuntimeId,
    LeaseProtocol Protocol,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt);
