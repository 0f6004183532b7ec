using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Bctrl.Relay.Leases;

/// <summary>
/// Issues and verifies lease tokens (docs/design.md §3): compact, URL-safe, under 200 characters, HMAC-SHA256 over a key ring.
/// Verification allocates nothing and never calls out of process.
/// </summary>
/// <remarks>
/// Format version 1, every character in A-Z a-z 0-9 '-' '_' '.':
/// <code>
///   1.kid.claims.mac
///   │ │   │      └ base64url (RFC 4648 §5, no padding) of HMAC-SHA256(key named by kid, ASCII of "1.kid.claims"):
///   │ │   │        all 32 bytes, 43 characters
///   │ │   └ base64url, no padding, of the binary claims below: 42-126 characters
///   │ └ key id: 1-16 characters of A-Z a-z 0-9 '-' '_' (never '.')
///   └ format version: the characters before the first '.'; only "1" is known
///
///   claims   offset  size
///            0       16  connection id: Guid, big-endian (RFC 9562 §4 byte order)
///            16      1   protocol (LeaseProtocol)
///            17      8   issued-at: Unix seconds, int64 big-endian
///            25      4   lifetime: seconds, uint32 big-endian; expiry = issued-at + lifetime
///            29      1   n: runtime id length, 1-64
///            30      n   runtime id: ASCII A-Z a-z 0-9 '.' '_' '-'
///   scoped leases only (docs/scope.md), right after the runtime id:
///            30+n    1   m: scope target id length, 1-128
///            31+n    m   scope target id: ASCII A-Z a-z 0-9 '.' '_' '-'
/// </code>
/// The scope is an optional trailing field rather than a new version: a token without it is exactly a token of before,
/// so tokens issued before scopes existed still verify, and the MAC covers the field like every other character. A
/// relay that predates scopes refuses a scoped token as malformed (its claims are longer than the runtime id says), so
/// a fleet in the middle of an upgrade fails closed rather than granting the whole browser.
/// Nothing else is carried: never the runtime's address. Times are whole Unix seconds; <see cref="Issue"/> drops the
/// sub-second part of both (the expiry can only move earlier). With a 16-character key id and a 64-character runtime id
/// an unscoped token is 189 characters (<see cref="MaxUnscopedTokenLength"/>); with an 8-character key id and a
/// 36-character runtime id, 143, and 187 with a 32-character (Chromium) scope target. With a 128-character scope target
/// as well, the longest token is 361 characters (<see cref="MaxTokenLength"/>). The MAC covers the token's text rather than the decoded claims, and is compared as text, so that any change to
/// any character, including the unused low bits of the last base64url character, fails the signature.
/// </remarks>
internal sealed partial class LeaseTokens
{
    /// <summary>Longest runtime id a token carries (ASCII letters, digits, '.', '_', '-').</summary>
    public const int MaxRuntimeIdLength = 64;

    /// <summary>Longest scope target id a token carries (the token charset; the control API's limit for target ids).</summary>
    public const int MaxScopeTargetLength = 128;

    /// <summary>Scratch a caller gives <see cref="Verify"/>: the decoded claims, at most <c>MaxClaimsBytes</c> (223).</summary>
    public const int ScratchBytes = 256;

    /// <summary>Longest token of format version 1; anything longer is refused as malformed before any hashing.</summary>
    public const int MaxTokenLength = VersionPrefixLength + LeaseKeyRing.MaxKeyIdLength + 1 + MaxClaimsChars + 1 + MacChars;

    /// <summary>Longest token without a scope: what every token was before scoped leases.</summary>
    public const int MaxUnscopedTokenLength =
        VersionPrefixLength + LeaseKeyRing.MaxKeyIdLength + 1 + MaxUnscopedClaimsChars + 1 + MacChars;

    /// <summary>Longest clock skew the constructor accepts; the configured value is expected to be seconds.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromHours(1);

    private const int ConnectionIdOffset = 0;
    private const int ProtocolOffset = 16;
    private const int IssuedAtOffset = 17;
    private const int LifetimeOffset = 25;
    private const int RuntimeIdLengthOffset = 29;
    private const int RuntimeIdOffset = 30;
    private const int MinClaimsBytes = RuntimeIdOffset + 1;
    private const int MaxUnscopedClaimsBytes = RuntimeIdOffset + MaxRuntimeIdLength;
    private const int MaxClaimsBytes = MaxUnscopedClaimsBytes + 1 + MaxScopeTargetLength;

    // Unpadded base64url length of n bytes: ceil(4n / 3).
    private const int MinClaimsChars = ((MinClaimsBytes * 4) + 2) / 3;
    private const int MaxClaimsChars = ((MaxClaimsBytes * 4) + 2) / 3;
    private const int MaxUnscopedClaimsChars = ((MaxUnscopedClaimsBytes * 4) + 2) / 3;
    private const int MacBytes = HMACSHA256.HashSizeInBytes;
    private const int MacChars = ((MacBytes * 4) + 2) / 3;

    /// <summary>"1." — the version and its separator.</summary>
    private const int VersionPrefixLength = 2;
    private const char Version = '1';

    /// <summary>Everything the MAC covers, at most: "1.kid.claims".</summary>
    private const int MaxSignedLength = MaxTokenLength - 1 - MacChars;

    /// <summary>DateTimeOffset.MaxValue in Unix seconds: no expiry may go past it.</summary>
    private const long MaxUnixSeconds = 253_402_300_799;

    private static readonly SearchValues<char> s_tokenChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.");

    private static readonly SearchValues<byte> s_runtimeIdBytes =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."u8);

    private readonly LeaseKeyRing _keys;
    private readonly TimeProvider _time;
    private readonly long _skewTicks;

    /// <param name="keys">The ring: its first key signs, all of them verify.</param>
    /// <param name="time">The clock for expiry checks.</param>
    /// <param name="clockSkew">
    /// Tolerance for clocks that disagree, 0 to <see cref="MaxClockSkew"/>: a token is accepted from issued-at − skew
    /// through expiry + skew, both ends inclusive.
    /// </param>
    public LeaseTokens(LeaseKeyRing keys, TimeProvider time, TimeSpan clockSkew)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(clockSkew, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(clockSkew, MaxClockSkew);
        _keys = keys;
        _time = time;
        _skewTicks = clockSkew.Ticks;
    }

    /// <summary>Signs <paramref name="claims"/> with the ring's current key.</summary>
    /// <exception cref="ArgumentException">
    /// The runtime id is not 1-64 characters of A-Z a-z 0-9 '.' '_' '-', the scope target (when there is one) is not
    /// 1-128 of them, the protocol is unknown, issued-at is before 1970, or the expiry is before issued-at or more than
    /// <see cref="uint.MaxValue"/> seconds after it.
    /// </exception>
    public string Issue(in LeaseClaims claims)
    {
        var runtimeId = claims.RuntimeId;
        ArgumentNullException.ThrowIfNull(runtimeId, nameof(claims));
        if (!IsValidRuntimeId(runtimeId))
        {
            ThrowInvalidClaims($"The runtime id must be 1-{MaxRuntimeIdLength} characters of A-Z a-z 0-9 '.' '_' '-'.");
        }

        var scope = claims.ScopeTarget;
        if (scope is not null && !IsValidScopeTarget(scope))
        {
            ThrowInvalidClaims($"The scope target must be 1-{MaxScopeTargetLength} characters of A-Z a-z 0-9 '.' '_' '-'.");
        }

        if (!Enum.IsDefined(claims.Protocol))
        {
            ThrowInvalidClaims($"Unknown protocol {(byte)claims.Protocol}.");
        }

        var issuedAt = claims.IssuedAt.ToUnixTimeSeconds();
        var expiresAt = claims.ExpiresAt.ToUnixTimeSeconds();
        if (issuedAt < 0)
        {
            ThrowInvalidClaims("Issued-at must not be before 1970-01-01T00:00:00Z.");
        }

        if (expiresAt < issuedAt || expiresAt - issuedAt > uint.MaxValue)
        {
            ThrowInvalidClaims($"The expiry must be from issued-at to {uint.MaxValue} seconds after it.");
        }

        Span<byte> binary = stackalloc byte[MaxClaimsBytes];
        claims.ConnectionId.TryWriteBytes(binary[ConnectionIdOffset..], bigEndian: true, out _);
        binary[ProtocolOffset] = (byte)claims.Protocol;
        BinaryPrimitives.WriteInt64BigEndian(binary[IssuedAtOffset..], issuedAt);
        BinaryPrimitives.WriteUInt32BigEndian(binary[LifetimeOffset..], (uint)(expiresAt - issuedAt));
        binary[RuntimeIdLengthOffset] = (byte)runtimeId.Length;
        Ascii.FromUtf16(runtimeId, binary[RuntimeIdOffset..], out _);
        var claimsLength = RuntimeIdOffset + runtimeId.Length;
        if (scope is not null)
        {
            binary[claimsLength++] = (byte)scope.Length;
            Ascii.FromUtf16(scope, binary[claimsLength..], out _);
            claimsLength += scope.Length;
        }

        binary = binary[..claimsLength];

        var key = _keys.Current;
        Span<char> token = stackalloc char[MaxTokenLength];
        token[0] = Version;
        token[1] = '.';
        var length = VersionPrefixLength;
        key.Id.CopyTo(token[length..]);
        length += key.Id.Length;
        token[length++] = '.';
        length += Base64Url.EncodeToChars(binary, token[length..]);

        Span<byte> signed = stackalloc byte[MaxSignedLength];
        Ascii.FromUtf16(token[..length], signed, out var signedLength);
        Span<byte> mac = stackalloc byte[MacBytes];
        LeaseMac.Compute(key, signed[..signedLength], mac);

        token[length++] = '.';
        length += Base64Url.EncodeToChars(mac, token[length..]);
        return new string(token[..length]);
    }

    /// <summary>Whether <paramref name="runtimeId"/> is 1-64 characters of A-Z a-z 0-9 '.' '_' '-' (the token charset).</summary>
    internal static bool IsValidRuntimeId(ReadOnlySpan<char> runtimeId) =>
        runtimeId.Length is > 0 and <= MaxRuntimeIdLength && !runtimeId.ContainsAnyExcept(s_tokenChars);

    /// <summary>Whether <paramref name="target"/> is 1-128 characters of A-Z a-z 0-9 '.' '_' '-' (the token charset).</summary>
    internal static bool IsValidScopeTarget(ReadOnlySpan<char> target) =>
        target.Length is > 0 and <= MaxScopeTargetLength && !target.ContainsAnyExcept(s_tokenChars);

    [DoesNotReturn]
    private static void ThrowInvalidClaims(string message) => throw new ArgumentException(message, "claims");
}
