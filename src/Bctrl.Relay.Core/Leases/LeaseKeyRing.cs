using System.Buffers;
using System.Buffers.Text;
using System.Collections.ObjectModel;
using System.Security.Cryptography;

namespace Bctrl.Relay.Leases;

/// <summary>The signing key ring: entry 0 signs, every entry verifies. Removing a key invalidates its tokens.</summary>
/// <remarks>
/// Rotation: put the new key first and keep the old one after it until every token it signed has expired, then drop it.
/// Error messages name a key by its position and, once the id is known to be well formed, its id; they never show a
/// secret, nor an ill-formed id (which could be a secret pasted into the wrong field).
/// </remarks>
internal sealed class LeaseKeyRing
{
    /// <summary>Longest key id; ids are carried in every token, so they are kept short.</summary>
    public const int MaxKeyIdLength = 16;

    /// <summary>Shortest secret: the HMAC-SHA256 output size (RFC 2104 §3 advises keys no shorter than the hash output).</summary>
    public const int MinSecretBytes = 32;

    private static readonly SearchValues<char> s_keyIdChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    private readonly SigningKey[] _keys;

    /// <summary>Throws <see cref="ArgumentException"/> for an empty ring, duplicate ids, a bad id or a short secret.</summary>
    public LeaseKeyRing(IReadOnlyList<SigningKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            throw new ArgumentException("The signing key ring needs at least one key.", nameof(keys));
        }

        var copy = new SigningKey[keys.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            var key = keys[i] ?? throw new ArgumentException($"Signing key #{i} is null.", nameof(keys));
            if (!IsValidKeyId(key.Id))
            {
                throw new ArgumentException(
                    $"Signing key #{i} has an invalid id ({key.Id.Length} characters): ids are 1-{MaxKeyIdLength} characters of A-Z a-z 0-9 '-' '_'.",
                    nameof(keys));
            }

            if (key.Secret.Length < MinSecretBytes)
            {
                throw new ArgumentException(
                    $"Signing key #{i} '{key.Id}' has a {key.Secret.Length}-byte secret; at least {MinSecretBytes} bytes are required.",
                    nameof(keys));
            }

            for (var j = 0; j < i; j++)
            {
                if (string.Equals(copy[j].Id, key.Id, StringComparison.Ordinal))
                {
                    throw new ArgumentException($"Signing keys #{j} and #{i} share the id '{key.Id}'.", nameof(keys));
                }
            }

            copy[i] = key;
        }

        _keys = copy;
        Keys = new ReadOnlyCollection<SigningKey>(copy);
    }

    public SigningKey Current => _keys[0];

    public IReadOnlyList<SigningKey> Keys { get; }

    /// <summary>Generates one random 32-byte key, for the embedded default.</summary>
    /// <remarks>The id is 'g' and 8 base64url characters of 6 random bytes, e.g. <c>gq3Zr_0aX</c>.</remarks>
    public static LeaseKeyRing Generate()
    {
        Span<byte> idBytes = stackalloc byte[6];
        RandomNumberGenerator.Fill(idBytes);
        var id = "g" + Base64Url.EncodeToString(idBytes);
        var secret = RandomNumberGenerator.GetBytes(MinSecretBytes);
        var key = new SigningKey(id, secret);
        CryptographicOperations.ZeroMemory(secret);
        return new LeaseKeyRing([key]);
    }

    /// <summary>Whether <paramref name="id"/> is 1-16 characters of A-Z a-z 0-9 '-' '_'.</summary>
    public static bool IsValidKeyId(ReadOnlySpan<char> id) =>
        id.Length is > 0 and <= MaxKeyIdLength && !id.ContainsAnyExcept(s_keyIdChars);

    /// <summary>The key with this id, by a linear ordinal compare (rings hold a handful of keys); null if none.</summary>
    internal SigningKey? Find(ReadOnlySpan<char> id)
    {
        foreach (var key in _keys)
        {
            if (id.SequenceEqual(key.Id))
            {
                return key;
            }
        }

        return null;
    }
}
