namespace Bctrl.Relay.Leases;

/// <summary>The outcome of verifying a token; only <see cref="Valid"/> admits an attach.</summary>
internal enum LeaseVerifyResult : byte
{
    Valid,
    Malformed,
    UnsupportedVersion,
    UnknownKey,
    BadSignature,
    NotYetValid,
    Expired,
}
