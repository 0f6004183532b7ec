using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Bctrl.Relay.Leases;

internal sealed partial class LeaseTokens
{
    /// <summary>
    /// Checks a token's structure, signature and times, in that order, without allocating. No claim is read before the
    /// MAC has matched. On <see cref="LeaseVerifyResult.Valid"/>, <paramref name="lease"/> holds the claims and its
    /// runtime id and scope target point into <paramref name="scratch"/>; otherwise it is <c>default</c>.
    /// </summary>
    /// <param name="token">The token as presented; never logged or echoed.</param>
    /// <param name="scratch">At least <see cref="ScratchBytes"/> bytes the lease may refer to until the caller reuses them.</param>
    /// <param name="lease">The verified claims.</param>
    /// <remarks>
    /// Times: <see cref="LeaseVerifyResult.NotYetValid"/> when issued-at is later than now + skew,
    /// <see cref="LeaseVerifyResult.Expired"/> when now is later than expiry + skew; now == expiry + skew is still valid.
    /// </remarks>
    public LeaseVerifyResult Verify(ReadOnlySpan<char> token, Span<byte> scratch, out VerifiedLease lease)
    {
        lease = default;
        if (scratch.Length < ScratchBytes)
        {
            ThrowScratchTooSmall();
        }

        // Structure, cheapest checks first; nothing here is hashed or decoded.
        if (token.Length > MaxTokenLength || token.ContainsAnyExcept(s_tokenChars))
        {
            return LeaseVerifyResult.Malformed;
        }

        var versionEnd = token.IndexOf('.');
        if (versionEnd <= 0)
        {
            return LeaseVerifyResult.Malformed;
        }

        if (versionEnd != VersionPrefixLength - 1 || token[0] != Version)
        {
            return LeaseVerifyResult.UnsupportedVersion;
        }

        var afterVersion = token[VersionPrefixLength..];
        var kidLength = afterVersion.IndexOf('.');
        if (kidLength is <= 0 or > LeaseKeyRing.MaxKeyIdLength)
        {
            return LeaseVerifyResult.Malformed;
        }

        var kid = afterVersion[..kidLength];
        var claimsAndMac = afterVersion[(kidLength + 1)..];
        var claimsLength = claimsAndMac.Length - 1 - MacChars;
        if (claimsLength is < MinClaimsChars or > MaxClaimsChars
            || claimsLength % 4 == 1 // no base64 encoding is this long
            || claimsAndMac[claimsLength] != '.'
            || claimsAndMac[..claimsLength].Contains('.')
            || claimsAndMac[(claimsLength + 1)..].Contains('.'))
        {
            return LeaseVerifyResult.Malformed;
        }

        var key = _keys.Find(kid);
        if (key is null)
        {
            return LeaseVerifyResult.UnknownKey;
        }

        // The MAC, over the ASCII of "1.kid.claims", compared as base64url text in constant time.
        var signedChars = token[..(token.Length - 1 - MacChars)];
        Span<byte> signed = stackalloc byte[MaxSignedLength];
        Ascii.FromUtf16(signedChars, signed, out var signedLength);
        Span<byte> mac = stackalloc byte[MacBytes];
        LeaseMac.Compute(key, signed[..signedLength], mac);
        Span<char> expectedMac = stackalloc char[MacChars];
        Base64Url.EncodeToChars(mac, expectedMac);
        if (!CryptographicOperations.FixedTimeEquals(
                MemoryMarshal.AsBytes(expectedMac),
                MemoryMarshal.AsBytes(token[^MacChars..])))
        {
            return LeaseVerifyResult.BadSignature;
        }

        // Signed by a key of the ring: the claims can be read. A bad layout here means a faulty issuer.
        var claims = claimsAndMac[..claimsLength];
        if (!Base64Url.TryDecodeFromChars(claims, scratch, out var claimsBytes)
            || claimsBytes < MinClaimsBytes
            || scratch[RuntimeIdLengthOffset] is 0 or > MaxRuntimeIdLength)
        {
            return LeaseVerifyResult.Malformed;
        }

        // After the runtime id: nothing (a lease of the whole browser), or a scope target's length and bytes.
        var scopeOffset = RuntimeIdOffset + scratch[RuntimeIdLengthOffset];
        var scope = ReadOnlySpan<byte>.Empty;
        if (claimsBytes != scopeOffset)
        {
            if (claimsBytes <= scopeOffset + 1
                || scratch[scopeOffset] > MaxScopeTargetLength
                || claimsBytes != scopeOffset + 1 + scratch[scopeOffset])
            {
                return LeaseVerifyResult.Malformed;
            }

            scope = scratch.Slice(scopeOffset + 1, scratch[scopeOffset]);
            if (scope.ContainsAnyExcept(s_runtimeIdBytes))
            {
                return LeaseVerifyResult.Malformed;
            }
        }

        var runtimeId = scratch.Slice(RuntimeIdOffset, scratch[RuntimeIdLengthOffset]);
        var protocol = (LeaseProtocol)scratch[ProtocolOffset];
        var issuedAt = BinaryPrimitives.ReadInt64BigEndian(scratch[IssuedAtOffset..]);
        var lifetime = BinaryPrimitives.ReadUInt32BigEndian(scratch[LifetimeOffset..]);
        if (runtimeId.ContainsAnyExcept(s_runtimeIdBytes)
            || !Enum.IsDefined(protocol)
            || issuedAt < 0
            || issuedAt > MaxUnixSeconds - lifetime)
        {
            return LeaseVerifyResult.Malformed;
        }

        var expiresAt = issuedAt + lifetime;
        var now = _time.GetUtcNow().UtcTicks;
        if (UnixSecondsToTicks(issuedAt) - _skewTicks > now)
        {
            return LeaseVerifyResult.NotYetValid;
        }

        if (now - _skewTicks > UnixSecondsToTicks(expiresAt))
        {
            return LeaseVerifyResult.Expired;
        }

        lease = new VerifiedLease(
            new Guid(scratch.Slice(ConnectionIdOffset, 16), bigEndian: true),
            runtimeId,
            protocol,
            issuedAt,
            expiresAt,
            scope);
        return LeaseVerifyResult.Valid;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long UnixSecondsToTicks(long seconds) => DateTime.UnixEpoch.Ticks + (seconds * TimeSpan.TicksPerSecond);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowScratchTooSmall() =>
        throw new ArgumentException($"Scratch must be at least {ScratchBytes} bytes.", "scratch");
}
