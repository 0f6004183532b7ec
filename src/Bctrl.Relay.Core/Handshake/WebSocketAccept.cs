using System.Security.Cryptography;
using System.Text;

namespace Bctrl.Relay.Handshake;

/// <summary>RFC 6455 §4.2.2: the accept value is base64(SHA-1(key + the protocol's GUID)).</summary>
internal static class WebSocketAccept
{
    private static ReadOnlySpan<byte> Guid => "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8;

    public static string Compute(string key)
    {
        Span<byte> input = stackalloc byte[64 + 36];
        var written = Encoding.ASCII.GetBytes(key.AsSpan(), input);
        Guid.CopyTo(input[written..]);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(input[..(written + Guid.Length)], hash);
        return Convert.ToBase64String(hash);
    }

    /// <summary>A fresh random client key: base64 of 16 bytes (§4.1).</summary>
    public static string NewKey()
    {
        Span<byte> nonce = stackalloc byte[16];
        RandomNumberGenerator.Fill(nonce);
        return Convert.ToBase64String(nonce);
    }

    /// <summary>A valid key decodes to exactly 16 bytes (§4.1 item 7).</summary>
    public static bool IsValidKey(string? key)
    {
        if (key is null || key.Length != 24)
        {
            return false;
        }

        Span<byte> decoded = stackalloc byte[18];
        return Convert.TryFromBase64String(key, decoded, out var length) && length == 16;
    }
}
