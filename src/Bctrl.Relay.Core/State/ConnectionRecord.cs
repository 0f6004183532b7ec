using Bctrl.Relay.Leases;

namespace Bctrl.Relay.State;

/// <summary>A lease into one runtime. The token is never stored: it is shown once, in the answer that creates it.</summary>
internal sealed record ConnectionRecord(
    Guid Id,
    string RuntimeId,
    LeaseProtocol Protocol,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? DeletedAt);
