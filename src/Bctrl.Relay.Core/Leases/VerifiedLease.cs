namespace Bctrl.Relay.Leases;

/// <summary>
/// The claims of a verified token without allocating: the runtime id stays as UTF-8 in the caller's scratch buffer.
/// </summary>
internal readonly ref struct VerifiedLease
{
    public Guid ConnectionId => throw new NotImplementedException();

    /// <summary>UTF-8 (ASCII) bytes of the runtime id.</summary>
    public ReadOnlySpan<byte> RuntimeId => throw new NotImplementedException();

    public LeaseProtocol Protocol => throw new NotImplementedException();

    public DateTimeOffset IssuedAt => throw new NotImplementedException();

    public DateTimeOffset ExpiresAt => throw new NotImplementedException();

    public bool RuntimeIdEquals(string runtimeId) => throw new NotImplementedException();
}
