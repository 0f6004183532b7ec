using System.Text;

namespace Bctrl.Relay.Leases;

/// <summary>
/// The claims of a verified token without allocating: the runtime id stays as UTF-8 in the caller's scratch buffer.
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
        long expiresAtUnixSeconds)
    {
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

    public DateTimeOffset IssuedAt => DateTimeOffset.FromUnixTimeSeconds(_issuedAtUnixSeconds);

    public DateTimeOffset ExpiresAt => DateTimeOffset.FromUnixTimeSeconds(_expiresAtUnixSeconds);

    /// <summary>Ordinal comparison of the runtime id with <paramref name="runtimeId"/>, without allocating.</summary>
    public bool RuntimeIdEquals(string runtimeId)
    {
        ArgumentNullException.ThrowIfNull(runtimeId);
        return Ascii.Equals(RuntimeId, runtimeId);
    }
}
