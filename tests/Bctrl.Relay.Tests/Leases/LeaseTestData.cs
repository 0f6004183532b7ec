using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Bctrl.Relay.Leases;

namespace Bctrl.Relay.Tests.Leases;

/// <summary>Keys, claims and a clock shared by the lease tests.</summary>
internal static class LeaseTestData
{
    public const string UrlSafeChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";

    /// <summary>Every single-character change of <paramref name="token"/> (to any URL-safe character) fails verification.</summary>
    public static void AssertEveryTamperRefused(LeaseTokens tokens, string token)
    {
        var scratch = new byte[LeaseTokens.ScratchBytes];
        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(token, scratch, out _));
        var chars = token.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var original = chars[i];
            foreach (var replacement in UrlSafeChars)
            {
                if (replacement == original)
                {
                    continue;
                }

                chars[i] = replacement;
                Assert.True(tokens.Verify(chars, scratch, out _) != LeaseVerifyResult.Valid, $"position {i}: '{original}' -> '{replacement}' was accepted");
            }

            chars[i] = original;
        }
    }

    public static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public static readonly TimeSpan Skew = TimeSpan.FromSeconds(30);

    /// <summary>A key whose secret is 32 bytes of <paramref name="fill"/>, so tests can tell keys apart and sign by hand.</summary>
    public static SigningKey Key(string id, byte fill = 0x42, int secretBytes = 32) =>
        new(id, Enumerable.Repeat(fill, secretBytes).ToArray());

    public static LeaseKeyRing Ring(params SigningKey[] keys) => new(keys);

    public static LeaseClaims Claims(string runtimeId = "rt-7f3a9c.eu-west_1", TimeSpan? lifetime = null) =>
        new(
            Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"),
            runtimeId,
            LeaseProtocol.Cdp,
            Now,
            Now + (lifetime ?? TimeSpan.FromMinutes(5)));

    public static LeaseTokens Tokens(LeaseKeyRing ring, TimeProvider time) => new(ring, time, Skew);

    /// <summary>Builds "1.kid.base64url(claims).mac" exactly as the format describes, for claims the issuer would refuse.</summary>
    public static string SignRaw(SigningKey key, ReadOnlySpan<byte> claims, string version = "1")
    {
        var signed = $"{version}.{key.Id}.{Base64Url.EncodeToString(claims)}";
        var mac = HMACSHA256.HashData(key.Secret, Encoding.ASCII.GetBytes(signed));
        return $"{signed}.{Base64Url.EncodeToString(mac)}";
    }
}
