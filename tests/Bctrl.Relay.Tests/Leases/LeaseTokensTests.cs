using Bctrl.Relay.Leases;
using Microsoft.Extensions.Time.Testing;
using static Bctrl.Relay.Tests.Leases.LeaseTestData;

namespace Bctrl.Relay.Tests.Leases;

public class LeaseTokensTests
{
    private readonly FakeTimeProvider _time = new(Now);
    private readonly byte[] _scratch = new byte[LeaseTokens.ScratchBytes];

    [Theory]
    [InlineData("r")]
    [InlineData("ab")]
    [InlineData("abc")]
    [InlineData("7d4c2a1e-55b0-4c8e-9e0b-3f1f4a2d6c88")]
    [InlineData("a.b_c-D.0123456789012345678901234567890123456789012345678901234")]
    [InlineData("a.b_c-D.01234567890123456789012345678901234567890123456789012345")]
    public void RoundTrip_ClaimsOutEqualClaimsIn(string runtimeId)
    {
        var tokens = Tokens(Ring(Key("k1")), _time);
        var claims = Claims(runtimeId);

        var token = tokens.Issue(claims);

        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(token, _scratch, out var lease));
        Assert.Equal(claims.ConnectionId, lease.ConnectionId);
        Assert.Equal(claims.Protocol, lease.Protocol);
        Assert.Equal(claims.IssuedAt, lease.IssuedAt);
        Assert.Equal(claims.ExpiresAt, lease.ExpiresAt);
        Assert.Equal(runtimeId, System.Text.Encoding.ASCII.GetString(lease.RuntimeId));
        Assert.True(lease.RuntimeIdEquals(runtimeId));
        Assert.False(lease.RuntimeIdEquals(runtimeId + "x"));
        Assert.False(lease.RuntimeIdEquals(runtimeId.ToUpperInvariant() == runtimeId ? runtimeId.ToLowerInvariant() + "X" : runtimeId.ToUpperInvariant()));
        Assert.True(lease.RuntimeId.Overlaps(_scratch), "the runtime id refers to the caller's scratch");
    }

    [Fact]
    public void RoundTrip_DistinctConnectionIdsAndTimes()
    {
        var tokens = Tokens(Ring(Key("k1")), _time);
        var claims = new LeaseClaims(Guid.NewGuid(), "x", LeaseProtocol.Cdp, Now.AddSeconds(-10), Now.AddDays(30));

        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(tokens.Issue(claims), _scratch, out var lease));
        Assert.Equal(claims.ConnectionId, lease.ConnectionId);
        Assert.Equal(claims.IssuedAt, lease.IssuedAt);
        Assert.Equal(claims.ExpiresAt, lease.ExpiresAt);
    }

    [Fact]
    public void Issue_DropsSubSecondParts()
    {
        var tokens = Tokens(Ring(Key("k1")), _time);
        var claims = Claims() with { IssuedAt = Now.AddMilliseconds(900), ExpiresAt = Now.AddSeconds(60.7) };

        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(tokens.Issue(claims), _scratch, out var lease));
        Assert.Equal(Now, lease.IssuedAt);
        Assert.Equal(Now.AddSeconds(60), lease.ExpiresAt);
    }

    [Theory]
    [InlineData("r")]
    [InlineData("ab")]
    [InlineData("7d4c2a1e-55b0-4c8e-9e0b-3f1f4a2d6c88")]
    public void Tampering_AnySingleCharacter_IsRefused(string runtimeId)
    {
        var tokens = Tokens(Ring(Key("k1")), _time);
        AssertEveryTamperRefused(tokens, tokens.Issue(Claims(runtimeId)));
    }

    [Fact]
    public void Tampering_ReportsWhichPartFailed()
    {
        var tokens = Tokens(Ring(Key("k1"), Key("k2", 0x43)), _time);
        var token = tokens.Issue(Claims());

        Assert.Equal(LeaseVerifyResult.UnsupportedVersion, tokens.Verify("2" + token[1..], _scratch, out _));
        Assert.Equal(LeaseVerifyResult.BadSignature, tokens.Verify(token.Replace("1.k1.", "1.k2.", StringComparison.Ordinal), _scratch, out _));
        Assert.Equal(LeaseVerifyResult.UnknownKey, tokens.Verify(token.Replace("1.k1.", "1.k3.", StringComparison.Ordinal), _scratch, out _));
        var claimsAt = token.IndexOf('.', 2) + 1;
        var flipped = token[..claimsAt] + (token[claimsAt] == 'A' ? 'B' : 'A') + token[(claimsAt + 1)..];
        Assert.Equal(LeaseVerifyResult.BadSignature, tokens.Verify(flipped, _scratch, out _));
    }

    [Fact]
    public void Truncation_AtAnyLength_IsRefused()
    {
        var tokens = Tokens(Ring(Key("k1")), _time);
        var token = tokens.Issue(Claims());
        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(token, _scratch, out _));

        for (var length = 0; length < token.Length; length++)
        {
            Assert.NotEqual(LeaseVerifyResult.Valid, tokens.Verify(token.AsSpan(0, length), _scratch, out _));
            Assert.NotEqual(LeaseVerifyResult.Valid, tokens.Verify(token.AsSpan(token.Length - length), _scratch, out _));
        }
    }

    [Fact]
    public void Extension_ByAnyCharacter_IsRefused()
    {
        var tokens = Tokens(Ring(Key("k1")), _time);
        var token = tokens.Issue(Claims());
        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(token, _scratch, out _));

        foreach (var c in UrlSafeChars + "=+/ \0")
        {
            Assert.NotEqual(LeaseVerifyResult.Valid, tokens.Verify(token + c, _scratch, out _));
            Assert.NotEqual(LeaseVerifyResult.Valid, tokens.Verify(c + token, _scratch, out _));
        }

        Assert.NotEqual(LeaseVerifyResult.Valid, tokens.Verify(token + token, _scratch, out _));
    }

    [Fact]
    public void WrongKeyId_IsUnknownKey()
    {
        var issuer = Tokens(Ring(Key("other")), _time);
        var verifier = Tokens(Ring(Key("k1"), Key("k2", 0x43)), _time);

        Assert.Equal(LeaseVerifyResult.UnknownKey, verifier.Verify(issuer.Issue(Claims()), _scratch, out _));
    }

    [Fact]
    public void TokenSignedByAKeyNotInTheRing_WithAnIdInTheRing_IsBadSignature()
    {
        var issuer = Tokens(Ring(Key("k1", 0x99)), _time);
        var verifier = Tokens(Ring(Key("k1", 0x42)), _time);

        Assert.Equal(LeaseVerifyResult.BadSignature, verifier.Verify(issuer.Issue(Claims()), _scratch, out var lease));
        Assert.Equal(Guid.Empty, lease.ConnectionId);
        Assert.True(lease.RuntimeId.IsEmpty);
    }

    [Fact]
    public void Expiry_WithSkew_InclusiveAtExpiryPlusSkew()
    {
        var tokens = Tokens(Ring(Key("k1")), _time);
        var claims = Claims(lifetime: TimeSpan.FromMinutes(5));
        var token = tokens.Issue(claims);

        _time.SetUtcNow(claims.ExpiresAt - TimeSpan.FromSeconds(1));
        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(token, _scratch, out _));

        _time.SetUtcNow(claims.ExpiresAt);
        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(token, _scratch, out _));

        _time.SetUtcNow(claims.ExpiresAt + TimeSpan.FromSeconds(10));
        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(token, _scratch, out _));

        // The boundary: now == expiry + skew is still valid; one tick later is not.
        _time.SetUtcNow(claims.ExpiresAt + Skew);
        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(token, _scratch, out _));

        _time.SetUtcNow(claims.ExpiresAt + Skew + TimeSpan.FromTicks(1));
        Assert.Equal(LeaseVerifyResult.Expired, tokens.Verify(token, _scratch, out var lease));
        Assert.True(lease.RuntimeId.IsEmpty);

        _time.SetUtcNow(claims.ExpiresAt + TimeSpan.FromDays(1));
        Assert.Equal(LeaseVerifyResult.Expired, tokens.Verify(token, _scratch, out _));
    }

    [Fact]
    public void Expiry_WithZeroSkew()
    {
        var tokens = new LeaseTokens(Ring(Key("k1")), _time, TimeSpan.Zero);
        var claims = Claims(lifetime: TimeSpan.FromSeconds(1));
        var token = tokens.Issue(claims);

        _time.SetUtcNow(claims.ExpiresAt);
        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(token, _scratch, out _));
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(LeaseVerifyResult.Expired, tokens.Verify(token, _scratch, out _));
    }

    [Fact]
    public void IssuedInTheFuture_IsNotYetValid_UntilWithinSkew()
    {
        var tokens = Tokens(Ring(Key("k1")), _time);
        var issuedAt = Now + TimeSpan.FromMinutes(2);
        var token = tokens.Issue(Claims() with { IssuedAt = issuedAt, ExpiresAt = issuedAt + TimeSpan.FromMinutes(5) });

        Assert.Equal(LeaseVerifyResult.NotYetValid, tokens.Verify(token, _scratch, out _));

        _time.SetUtcNow(issuedAt - Skew - TimeSpan.FromTicks(1));
        Assert.Equal(LeaseVerifyResult.NotYetValid, tokens.Verify(token, _scratch, out _));

        _time.SetUtcNow(issuedAt - Skew);
        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(token, _scratch, out _));
    }

    [Fact]
    public void Rotation_NewFirst_SignsWithNewAndStillVerifiesOld_UntilOldIsRemoved()
    {
        var oldKey = Key("old", 0x01);
        var newKey = Key("new", 0x02);
        var before = Tokens(Ring(oldKey), _time);
        var during = Tokens(Ring(newKey, oldKey), _time);
        var after = Tokens(Ring(newKey), _time);

        var oldToken = before.Issue(Claims());
        var newToken = during.Issue(Claims());

        Assert.StartsWith("1.new.", newToken, StringComparison.Ordinal);
        Assert.StartsWith("1.old.", oldToken, StringComparison.Ordinal);
        Assert.Equal(LeaseVerifyResult.Valid, during.Verify(oldToken, _scratch, out _));
        Assert.Equal(LeaseVerifyResult.Valid, during.Verify(newToken, _scratch, out _));
        Assert.Equal(LeaseVerifyResult.Valid, after.Verify(newToken, _scratch, out _));
        Assert.Equal(LeaseVerifyResult.UnknownKey, after.Verify(oldToken, _scratch, out _));
        Assert.Equal(LeaseVerifyResult.UnknownKey, before.Verify(newToken, _scratch, out _));
    }

    [Fact]
    public void Length_IsUnder200_WithLongestIds_AndUrlSafe()
    {
        var tokens = Tokens(Ring(Key("ABCDEFGHIJ-_klmn")), _time);
        var token = tokens.Issue(Claims(new string('r', LeaseTokens.MaxRuntimeIdLength)));

        Assert.True(token.Length < 200, $"{token.Length} characters");
        Assert.Equal(LeaseTokens.MaxUnscopedTokenLength, token.Length);
        Assert.All(token, c => Assert.Contains(c, UrlSafeChars));
        Assert.Equal('1', token[0]);
        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(token, _scratch, out _));
    }

    [Fact]
    public void Token_CarriesNoSecret_AndReadableRuntimeIdIsNotPlainText()
    {
        var key = Key("k1", 0x41);
        var token = Tokens(Ring(key), _time).Issue(Claims("runtime-abc"));

        Assert.DoesNotContain("runtime-abc", token, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(key.Secret.ToArray()), token, StringComparison.Ordinal);
        Assert.DoesNotContain(System.Buffers.Text.Base64Url.EncodeToString(key.Secret), token, StringComparison.Ordinal);
        Assert.Equal(4, token.Split('.').Length);
    }

    public static TheoryData<string, string> MalformedTokens()
    {
        static string A(int n) => new('A', n);
        var mac = A(43);
        return new TheoryData<string, string>
        {
            { "empty", "" },
            { "version only", "1" },
            { "version and dot", "1." },
            { "leading dot", "." + "1.k1." + A(42) + "." + mac },
            { "empty key id", "1.." + A(42) + "." + mac },
            { "no claims", "1.k1" },
            { "empty claims", "1.k1." },
            { "empty claims and mac", "1.k1.." },
            { "17-character key id", "1.ABCDEFGHIJKLMNOPQ." + A(42) + "." + mac },
            { "claims one short", "1.k1." + A(41) + "." + mac },
            { "claims of impossible base64 length", "1.k1." + A(45) + "." + mac },
            { "claims too long", "1.k1." + A(299) + "." + mac },
            { "mac one short", "1.k1." + A(42) + "." + A(42) },
            { "mac one long", "1.k1." + A(42) + "." + A(44) },
            { "five parts", "1.k1." + A(20) + "." + A(21) + "." + mac },
            { "dot inside mac", "1.k1." + A(42) + "." + A(20) + "." + A(22) },
            { "padding", "1.k1." + A(41) + "=." + mac },
            { "base64 '+'", "1.k1." + A(41) + "+." + mac },
            { "base64 '/'", "1.k1." + A(41) + "/." + mac },
            { "space instead of dot", "1.k1." + A(42) + " " + mac },
            { "non-ASCII", "1.k1." + A(42) + "." + A(42) + "\u00e9" },
            { "NUL", "1.k1." + A(42) + "." + A(42) + "\0" },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedTokens))]
    public void Malformed_Structure(string name, string token)
    {
        var tokens = Tokens(Ring(Key("k1")), _time);

        Assert.True(LeaseVerifyResult.Malformed == tokens.Verify(token, _scratch, out _), name);
    }

    [Fact]
    public void WellFormedForgery_IsBadSignature_NotMalformed()
    {
        var tokens = Tokens(Ring(Key("k1")), _time);

        // The same shapes as the malformed cases, but well formed: the control for them.
        Assert.Equal(LeaseVerifyResult.BadSignature, tokens.Verify("1.k1." + new string('A', 42) + "." + new string('A', 43), _scratch, out _));
        Assert.Equal(LeaseVerifyResult.BadSignature, tokens.Verify("1.k1." + new string('A', 126) + "." + new string('A', 43), _scratch, out _));
    }

    [Fact]
    public void Malformed_WhenLongerThanTheMaximum_EvenIfOtherwiseWellFormed()
    {
        var tokens = Tokens(Ring(Key("k1")), _time);
        var longest = tokens.Issue(Claims(new string('r', LeaseTokens.MaxRuntimeIdLength)));
        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(longest, _scratch, out _));

        Assert.Equal(LeaseVerifyResult.Malformed, tokens.Verify(new string('A', LeaseTokens.MaxTokenLength + 1), _scratch, out _));
        Assert.Equal(LeaseVerifyResult.Malformed, tokens.Verify(new string('A', 1 << 20), _scratch, out _));
        Assert.Equal(LeaseVerifyResult.Malformed, tokens.Verify("1.k1." + new string('A', 300) + "." + new string('A', 43), _scratch, out _));
    }

    [Theory]
    [InlineData("2")]
    [InlineData("0")]
    [InlineData("11")]
    [InlineData("v1")]
    public void OtherVersions_AreUnsupported(string version)
    {
        var key = Key("k1");
        var tokens = Tokens(Ring(key), _time);
        var token = tokens.Issue(Claims());

        Assert.Equal(LeaseVerifyResult.UnsupportedVersion, tokens.Verify(version + token[1..], _scratch, out _));
        Assert.Equal(LeaseVerifyResult.UnsupportedVersion, tokens.Verify(SignRaw(key, new byte[40], version), _scratch, out _));
    }

    public static TheoryData<string, byte[]> SignedButMalformedClaims()
    {
        static byte[] Claims(byte protocol = 1, byte length = 3, string runtimeId = "abc", long issuedAt = 1_748_779_200, uint lifetime = 300)
        {
            var bytes = new byte[30 + runtimeId.Length];
            Guid.NewGuid().TryWriteBytes(bytes, bigEndian: true, out _);
            bytes[16] = protocol;
            System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(17), issuedAt);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(25), lifetime);
            bytes[29] = length;
            System.Text.Encoding.Latin1.GetBytes(runtimeId, bytes.AsSpan(30));
            return bytes;
        }

        return new TheoryData<string, byte[]>
        {
            { "well formed (control)", Claims() },
            { "protocol 0", Claims(protocol: 0) },
            { "protocol 200", Claims(protocol: 200) },
            { "length says 4, 3 follow", Claims(length: 4) },
            { "length says 2, 3 follow", Claims(length: 2) },
            { "length 0", Claims(length: 0, runtimeId: "") },
            { "length 65", Claims(length: 65, runtimeId: new string('a', 65)) },
            { "runtime id with '/'", Claims(runtimeId: "a/b") },
            { "runtime id with a space", Claims(runtimeId: "a b") },
            { "runtime id not ASCII", Claims(runtimeId: "a\u00e9b") },
            { "issued before 1970", Claims(issuedAt: -1) },
            { "expiry past year 9999", Claims(issuedAt: 253_402_300_799, lifetime: 1) },
            { "too short", new byte[30] },
        };
    }

    [Theory]
    [MemberData(nameof(SignedButMalformedClaims))]
    public void SignedButMalformedClaims_AreMalformed(string name, byte[] claims)
    {
        var key = Key("k1");
        var tokens = Tokens(Ring(key), new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_748_779_200)));

        var result = tokens.Verify(SignRaw(key, claims), _scratch, out _);

        Assert.Equal(name.EndsWith("(control)", StringComparison.Ordinal) ? LeaseVerifyResult.Valid : LeaseVerifyResult.Malformed, result);
    }

    [Fact]
    public void Verify_ScratchTooSmall_Throws()
    {
        var tokens = Tokens(Ring(Key("k1")), _time);
        var token = tokens.Issue(Claims());

        Assert.Throws<ArgumentException>(() => tokens.Verify(token, new byte[LeaseTokens.ScratchBytes - 1], out _));
    }

    public static TheoryData<string> InvalidRuntimeIds() => new()
    {
        "",
        new string('a', LeaseTokens.MaxRuntimeIdLength + 1),
        "a b",
        "a/b",
        "a:b",
        "a+b",
        "caf\u00e9",
        "a\nb",
    };

    [Theory]
    [MemberData(nameof(InvalidRuntimeIds))]
    public void Issue_InvalidRuntimeId_Throws(string runtimeId)
    {
        var tokens = Tokens(Ring(Key("k1")), _time);

        Assert.Throws<ArgumentException>(() => tokens.Issue(Claims(runtimeId)));
    }

    [Fact]
    public void Issue_InvalidClaims_Throw()
    {
        var tokens = Tokens(Ring(Key("k1")), _time);

        Assert.Throws<ArgumentNullException>(() => tokens.Issue(Claims() with { RuntimeId = null! }));
        Assert.Throws<ArgumentException>(() => tokens.Issue(Claims() with { Protocol = 0 }));
        Assert.Throws<ArgumentException>(() => tokens.Issue(Claims() with { Protocol = (LeaseProtocol)4 }));
        Assert.Throws<ArgumentException>(() => tokens.Issue(Claims() with { ExpiresAt = Now.AddSeconds(-1) }));
        Assert.Throws<ArgumentException>(() => tokens.Issue(Claims() with { ExpiresAt = Now.AddSeconds(uint.MaxValue + 1L) }));
        Assert.Throws<ArgumentException>(() => tokens.Issue(Claims() with { IssuedAt = DateTimeOffset.UnixEpoch.AddSeconds(-1) }));
        Assert.NotNull(tokens.Issue(Claims() with { ExpiresAt = Now }));
    }

    [Fact]
    public void Constructor_ValidatesArguments()
    {
        var ring = Ring(Key("k1"));

        Assert.Throws<ArgumentNullException>(() => new LeaseTokens(null!, _time, Skew));
        Assert.Throws<ArgumentNullException>(() => new LeaseTokens(ring, null!, Skew));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LeaseTokens(ring, _time, TimeSpan.FromTicks(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LeaseTokens(ring, _time, LeaseTokens.MaxClockSkew + TimeSpan.FromTicks(1)));
        Assert.NotNull(new LeaseTokens(ring, _time, LeaseTokens.MaxClockSkew));
    }
}
