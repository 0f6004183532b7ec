namespace Bctrl.Relay.Leases;

/// <summary>
/// Issues and verifies lease tokens (design §3): compact, URL-safe, under 200 characters, HMAC-SHA256 over a key ring.
/// Verification allocates nothing and never calls out of process.
/// </summary>
internal sealed class LeaseTokens
{
    /// <summary>Longest runtime id a token carries (ASCII letters, digits, '.', '_', '-').</summary>
    public const int MaxRuntimeIdLength = 64;

    /// <summary>Scratch a caller gives <see cref="Verify"/>.</summary>
    public const int ScratchBytes = 256;

    public LeaseTokens(LeaseKeyRing keys, TimeProvider time, TimeSpan clockSkew) => throw new NotImplementedException();

    public string Issue(in LeaseClaims claims) => throw new NotImplementedException();

    public LeaseVerifyResult Verify(ReadOnlySpan<char> token, Span<byte> scratch, out VerifiedLease lease) => throw new NotImplementedException();
}
