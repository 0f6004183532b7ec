using System.Text;

namespace Bctrl.Relay.Leases;

/// <summary>
/// The claims of a verified token without allocating: the runtime id and the scope target stay as UTF-8 in the caller's
/// scratch buffer.
/// </summary>
/// <remarks>Times are whole Unix seconds, as carried by the token.</remarks>
internal readonly ref struct VerifiedLease
{
    private readonly long _issuedAtUnixSeconds;
    private readonly long _expiresAtUnixSeconds;

    internal VerifiedLease(
        Guid connectionId,
        ReadOnlySpan<byte> runtimeId,
        LeaseProtocol protocol,
        long issuedAtUnixSeconds,
        long expiresAtUnixSeconds,
        ReadOnlySpan<byte> scopeTarget = default)
    {
        ScopeTarget = scopeTarget;
        ConnectionId = connectionId;
        RuntimeId = runtimeId;
        Protocol = protocol;
        _issuedAtUnixSeconds = issuedAtUnixSeconds;
        _expiresAtUnixSeconds = expiresAtUnixSeconds;
    }

    public Guid ConnectionId { get; }

    /// <summary>UTF-8 (ASCII) bytes of the runtime id.</summary>
    public ReadOnlySpan<byte> RuntimeId { get; }

    public LeaseProtocol Protocol { get; }

    /// <summary>UTF-8 (ASCII) bytes of the one target the lease may attach to (docs/scope.md); empty when unscoped.</summary>
    public ReadOnlySpan<byte> ScopeTarget { get; }

    /// <summary>Whether the lease is limited to one target.</summary>
    public bool IsScoped => !ScopeTarget.IsEmpty;

    public DateTimeOffset IssuedAt => DateTimeOffset.FromUnixTimeSeconds(_issuedAtUnixSeconds);

    public DateTimeOffset ExpiresAt => DateTimeOffset.FromUnixTimeSeconds(_expiresAtUnixSeconds);

    /// <summary>Ordinal comparison of the runtime id with <paramref name="runtimeId"/>, without allocating.</summary>
    public bool RuntimeIdEquals(string runtimeId)
    {
        ArgumentNullException.ThrowIfNull(runtimeId);
        return Ascii.Equals(RuntimeId, runtimeId);
    }

    /// <summary>Ordinal comparison of the scope target with <paramref name="targetId"/>, without allocating.</summary>
    public bool ScopeTargetEquals(ReadOnlySpan<char> targetId) => IsScoped && Ascii.Equals(ScopeTarget, targetId);
}
