using System.Buffers.Text;
using Bctrl.Relay.Leases;
using static Bctrl.Relay.Tests.Leases.LeaseTestData;

namespace Bctrl.Relay.Tests.Leases;

public class LeaseKeyRingTests
{
    [Fact]
    public void Default_Generate_MakesOneValid32ByteKey()
    {
        var ring = LeaseKeyRing.Generate();
        var other = LeaseKeyRing.Generate();

        var key = Assert.Single(ring.Keys);
        Assert.Same(key, ring.Current);
        Assert.Equal(32, key.Secret.Length);
        Assert.True(LeaseKeyRing.IsValidKeyId(key.Id), key.Id);
        Assert.NotEqual(key.Id, other.Current.Id);
        Assert.False(key.Secret.SequenceEqual(other.Current.Secret));
        Assert.False(key.Secret.SequenceEqual(new byte[32]));
    }

    [Fact]
    public void Default_GeneratedRing_IssuesAndVerifies()
    {
        var tokens = new LeaseTokens(LeaseKeyRing.Generate(), TimeProvider.System, Skew);
        var claims = new LeaseClaims(Guid.NewGuid(), "r1", LeaseProtocol.Cdp, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(1));

        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(tokens.Issue(claims), new byte[LeaseTokens.ScratchBytes], out _));
    }

    public static TheoryData<string[], int> ValidRings() => new()
    {
        { ["a"], 32 },
        { ["ABCDEFGHIJKLMNOP"], 32 },
        { ["key_2025-01"], 64 },
        { ["new", "old"], 32 },
        { ["k3", "k2", "k1"], 48 },
        { ["Ab", "ab"], 32 },
    };

    [Theory]
    [MemberData(nameof(ValidRings))]
    public void Valid_RingsAreAccepted_FirstSigns(string[] ids, int secretBytes)
    {
        var keys = ids.Select((id, i) => Key(id, (byte)i, secretBytes)).ToArray();

        var ring = new LeaseKeyRing(keys);

        Assert.Equal(ids, ring.Keys.Select(k => k.Id));
        Assert.Same(keys[0], ring.Current);
        foreach (var key in keys)
        {
            Assert.Same(key, ring.Find(key.Id));
        }

        Assert.Null(ring.Find("missing"));
        Assert.Null(ring.Find(ids[0] + "x"));
        Assert.Null(ring.Find(ids[0].AsSpan(0, ids[0].Length - 1)));
    }

    [Fact]
    public void Valid_RingCopiesItsList()
    {
        var keys = new List<SigningKey> { Key("a"), Key("b") };
        var ring = new LeaseKeyRing(keys);

        keys.Clear();

        Assert.Equal(2, ring.Keys.Count);
        Assert.False(ring.Keys is SigningKey[], "the ring must not hand out its mutable array");
    }

    private static readonly Dictionary<string, Func<SigningKey?[]>> s_invalidRings = new()
    {
        ["empty"] = () => [],
        ["null key"] = () => [Key("a"), null],
        ["empty id"] = () => [Key("")],
        ["17-character id"] = () => [Key("ABCDEFGHIJKLMNOPQ")],
        ["id with '.'"] = () => [Key("a.b")],
        ["id with a space"] = () => [Key("a b")],
        ["id with '/'"] = () => [Key("a/b")],
        ["id with '='"] = () => [Key("ab==")],
        ["non-ASCII id"] = () => [Key("k\u00e9")],
        ["duplicate ids"] = () => [Key("a", 1), Key("b", 2), Key("a", 3)],
        ["31-byte secret"] = () => [Key("a", secretBytes: 31)],
        ["empty secret"] = () => [Key("a", secretBytes: 0)],
        ["short secret after a good key"] = () => [Key("a"), Key("b", secretBytes: 16)],
    };

    public static TheoryData<string> InvalidRings() => new(s_invalidRings.Keys);

    [Theory]
    [MemberData(nameof(InvalidRings))]
    public void Invalid_RingsAreRefused(string name)
    {
        var keys = s_invalidRings[name]();

        var error = Assert.Throws<ArgumentException>(() => new LeaseKeyRing(keys!));

        Assert.False(string.IsNullOrEmpty(error.Message), name);
    }

    [Fact]
    public void Invalid_Null_Throws() => Assert.Throws<ArgumentNullException>(() => new LeaseKeyRing(null!));

    [Fact]
    public void Invalid_MessagesNeverShowASecret_NorAnIllFormedId()
    {
        // A secret pasted into the id field must not be echoed either.
        var secret = "c2VjcmV0LXZhbHVlLXRoYXQtc2hvdWxkLW5ldmVyLWxlYWs";
        var shortSecret = new SigningKey("a", "0123456789abcdef0123456789abcde"u8.ToArray());
        var secretAsId = new SigningKey(secret, new byte[32]);
        var secretWithDot = new SigningKey("s3cr3t.v4lue", new byte[32]);

        foreach (var (key, forbidden) in new[] { (shortSecret, "0123456789abcdef"), (secretAsId, secret), (secretWithDot, "s3cr3t") })
        {
            var error = Assert.Throws<ArgumentException>(() => new LeaseKeyRing([key]));
            Assert.DoesNotContain(forbidden, error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToBase64String(key.Secret), error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexString(key.Secret), error.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void SigningKey_CopiesTheSecret()
    {
        var bytes = Enumerable.Repeat((byte)7, 32).ToArray();
        var key = new SigningKey("a", bytes);

        bytes[0] = 8;

        Assert.Equal(7, key.Secret[0]);
    }

    [Fact]
    public void SigningKey_ToString_NeverShowsTheSecret()
    {
        var secret = "this-is-the-very-secret-hmac-key"u8.ToArray();
        var key = new SigningKey("k1", secret);

        var text = key.ToString();

        Assert.Contains("k1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Convert.ToBase64String(secret), text, StringComparison.Ordinal);
        Assert.DoesNotContain(Base64Url.EncodeToString(secret), text, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(secret), text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(string.Join(", ", secret), text, StringComparison.Ordinal);
    }
}
