using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text;
using Bctrl.Relay.Leases;
using Microsoft.Extensions.Time.Testing;
using static Bctrl.Relay.Tests.Leases.LeaseTestData;

namespace Bctrl.Relay.Tests.Leases;

/// <summary>The scope claim of a lease token (docs/scope.md): an optional trailing field, covered by the MAC.</summary>
public class LeaseTokensScopeTests
{
    private const string ChromiumTarget = "8F2B0C6D4E1A3579BDF02468ACE13579";

    private readonly FakeTimeProvider _time = new(Now);
    private readonly byte[] _scratch = new byte[LeaseTokens.ScratchBytes];

    public static TheoryData<string> LongestTarget() => [new string('t', LeaseTokens.MaxScopeTargetLength)];

    public static TheoryData<string> OneTooLong() => [new string('t', LeaseTokens.MaxScopeTargetLength + 1)];

    [Theory]
    [InlineData("T")]
    [InlineData(ChromiumTarget)]
    [InlineData("page.1_of-2")]
    [MemberData(nameof(LongestTarget))]
    public void RoundTrip_ScopeOutEqualsScopeIn(string target)
    {
        var tokens = Tokens(Ring(Key("k1")), _time);
        var claims = Claims() with { ScopeTarget = target };

        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(tokens.Issue(claims), _scratch, out var lease));
        Assert.True(lease.IsScoped);
        Assert.Equal(target, Encoding.ASCII.GetString(lease.ScopeTarget));
        Assert.True(lease.ScopeTargetEquals(target));
        Assert.False(lease.ScopeTargetEquals(target + "x"));
        Assert.False(lease.ScopeTargetEquals(target.AsSpan(0, target.Length - 1)));
        Assert.True(lease.ScopeTarget.Overlaps(_scratch), "the scope refers to the caller's scratch");
        Assert.True(lease.RuntimeIdEquals(claims.RuntimeId));
        Assert.Equal(claims.ConnectionId, lease.ConnectionId);
        Assert.Equal(claims.ExpiresAt, lease.ExpiresAt);
    }

    [Fact]
    public void Unscoped_IsNotScoped_AndMatchesNoTarget()
    {
        var tokens = Tokens(Ring(Key("k1")), _time);

        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(tokens.Issue(Claims()), _scratch, out var lease));
        Assert.False(lease.IsScoped);
        Assert.True(lease.ScopeTarget.IsEmpty);
        Assert.False(lease.ScopeTargetEquals(ChromiumTarget));
    }

    [Fact]
    public void OldTokens_LaidOutBeforeScopes_StillVerify_AndUnscopedTokensAreUnchanged()
    {
        var key = Key("k1");
        var tokens = Tokens(Ring(key), _time);
        var old = SignRaw(key, OldLayout(Claims()));

        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(old, _scratch, out var lease));
        Assert.False(lease.IsScoped);
        Assert.True(lease.RuntimeIdEquals(Claims().RuntimeId));

        // An unscoped token issued today is the very token of before, character for character.
        Assert.Equal(old, tokens.Issue(Claims()));
    }

    [Fact]
    public void Tampering_AnySingleCharacterOfAScopedToken_IsRefused()
    {
        var tokens = Tokens(Ring(Key("k1")), _time);
        AssertEveryTamperRefused(tokens, tokens.Issue(Claims("r") with { ScopeTarget = ChromiumTarget }));
    }

    [Fact]
    public void ChangingDroppingOrAddingTheScope_UnderTheSameMac_IsBadSignature()
    {
        var key = Key("k1");
        var tokens = Tokens(Ring(key), _time);
        var scoped = tokens.Issue(Claims() with { ScopeTarget = ChromiumTarget });
        var unscoped = tokens.Issue(Claims());
        var mac = scoped[(scoped.LastIndexOf('.') + 1)..];

        string WithClaims(string token, byte[] claims) => $"1.k1.{Base64Url.EncodeToString(claims)}.{token[(token.LastIndexOf('.') + 1)..]}";

        Assert.Equal(LeaseVerifyResult.BadSignature, tokens.Verify(WithClaims(scoped, Layout(Claims() with { ScopeTarget = "AAAA" + ChromiumTarget[4..] })), _scratch, out _));
        Assert.Equal(LeaseVerifyResult.BadSignature, tokens.Verify(WithClaims(scoped, OldLayout(Claims())), _scratch, out _));
        Assert.Equal(LeaseVerifyResult.BadSignature, tokens.Verify(WithClaims(unscoped, Layout(Claims() with { ScopeTarget = ChromiumTarget })), _scratch, out _));
        Assert.Equal(LeaseVerifyResult.BadSignature, tokens.Verify(unscoped[..(unscoped.LastIndexOf('.') + 1)] + mac, _scratch, out _));

        // The control: the hand-built layout is the issuer's, so only the MAC refused the three above.
        Assert.Equal(scoped, SignRaw(key, Layout(Claims() with { ScopeTarget = ChromiumTarget })));
    }

    public static TheoryData<string, byte[]> SignedButMalformedScopes()
    {
        var basis = OldLayout(Claims());
        static byte[] Append(byte[] head, params byte[] tail) => [.. head, .. tail];
        return new TheoryData<string, byte[]>
        {
            { "well formed (control)", Append(basis, 3, (byte)'a', (byte)'b', (byte)'c') },
            { "a length of 0", Append(basis, 0) },
            { "a length of 0 and a byte", Append(basis, 0, (byte)'a') },
            { "length says 4, 3 follow", Append(basis, 4, (byte)'a', (byte)'b', (byte)'c') },
            { "length says 2, 3 follow", Append(basis, 2, (byte)'a', (byte)'b', (byte)'c') },
            { "length 129", Append(basis, [129, .. Enumerable.Repeat((byte)'a', 129)]) },
            { "target with '/'", Append(basis, 3, (byte)'a', (byte)'/', (byte)'c') },
            { "target with a space", Append(basis, 3, (byte)'a', (byte)' ', (byte)'c') },
            { "target not ASCII", Append(basis, 3, (byte)'a', 0xC3, 0xA9) },
        };
    }

    [Theory]
    [MemberData(nameof(SignedButMalformedScopes))]
    public void SignedButMalformedScopes_AreMalformed(string name, byte[] claims)
    {
        var key = Key("k1");
        var tokens = Tokens(Ring(key), _time);

        var result = tokens.Verify(SignRaw(key, claims), _scratch, out _);

        Assert.Equal(name.EndsWith("(control)", StringComparison.Ordinal) ? LeaseVerifyResult.Valid : LeaseVerifyResult.Malformed, result);
    }

    [Fact]
    public void Length_WithLongestIdsAndScope_IsTheMaximum_AndAChromiumScopeAddsUnder50()
    {
        var longest = Tokens(Ring(Key("ABCDEFGHIJ-_klmn")), _time).Issue(
            Claims(new string('r', LeaseTokens.MaxRuntimeIdLength)) with { ScopeTarget = new string('t', LeaseTokens.MaxScopeTargetLength) });
        var tokens = Tokens(Ring(Key("kid-2025")), _time);
        var typical = tokens.Issue(Claims("7d4c2a1e-55b0-4c8e-9e0b-3f1f4a2d6c88"));
        var typicalScoped = tokens.Issue(Claims("7d4c2a1e-55b0-4c8e-9e0b-3f1f4a2d6c88") with { ScopeTarget = ChromiumTarget });

        Assert.Equal(LeaseTokens.MaxTokenLength, longest.Length);
        Assert.Equal(361, LeaseTokens.MaxTokenLength);
        Assert.All(longest, c => Assert.Contains(c, UrlSafeChars));
        Assert.Equal(LeaseVerifyResult.Valid, Tokens(Ring(Key("ABCDEFGHIJ-_klmn")), _time).Verify(longest, _scratch, out _));
        Assert.Equal(143, typical.Length);
        Assert.Equal(187, typicalScoped.Length);
        Assert.Equal(LeaseVerifyResult.Malformed, tokens.Verify("1.k1." + new string('A', 299) + "." + new string('A', 43), _scratch, out _));
        Assert.Equal(LeaseVerifyResult.BadSignature, tokens.Verify("1.kid-2025." + new string('A', 298) + "." + new string('A', 43), _scratch, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("caf\u00e9")]
    [MemberData(nameof(OneTooLong))]
    public void Issue_InvalidScope_Throws(string target)
    {
        var tokens = Tokens(Ring(Key("k1")), _time);

        Assert.Throws<ArgumentException>(() => tokens.Issue(Claims() with { ScopeTarget = target }));
    }

    /// <summary>The claims as every token was laid out before scopes (LeaseTokens' format comment, offsets 0-30+n).</summary>
    private static byte[] OldLayout(LeaseClaims claims)
    {
        var bytes = new byte[30 + claims.RuntimeId.Length];
        claims.ConnectionId.TryWriteBytes(bytes, bigEndian: true, out _);
        bytes[16] = (byte)claims.Protocol;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(17), claims.IssuedAt.ToUnixTimeSeconds());
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(25), (uint)(claims.ExpiresAt - claims.IssuedAt).TotalSeconds);
        bytes[29] = (byte)claims.RuntimeId.Length;
        Encoding.ASCII.GetBytes(claims.RuntimeId, bytes.AsSpan(30));
        return bytes;
    }

    /// <summary>The old layout plus the scope's length and bytes.</summary>
    private static byte[] Layout(LeaseClaims claims) =>
        claims.ScopeTarget is { } target ? [.. OldLayout(claims), (byte)target.Length, .. Encoding.ASCII.GetBytes(target)] : OldLayout(claims);
}
