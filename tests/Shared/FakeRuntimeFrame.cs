using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Bctrl.Relay.Testing;

/// <summary>
/// One WebSocket frame as a test sees it on the wire (RFC 6455 §5.2), with its payload unmasked. The encoder writes
/// any header a test asks for, including malformed ones (reserved bits, wrong mask bit, oversized control frames).
/// </summary>
/// <remarks>Written independently of the relay's own frame code on purpose: the test oracle must not share its bugs.</remarks>
public sealed record FakeRuntimeFrame(bool Fin, byte Rsv, byte Opcode, bool Masked, byte[] MaskKey, byte[] Payload)
{
    public const byte Continuation = 0x0;
    public const byte Text = 0x1;
    public const byte Binary = 0x2;
    public const byte Close = 0x8;
    public const byte Ping = 0x9;
    public const byte Pong = 0xA;

    /// <summary>The status code of a close frame; 1005 when it carries none.</summary>
    public ushort CloseCode => Payload.Length < 2 ? (ushort)1005 : BinaryPrimitives.ReadUInt16BigEndian(Payload);

    /// <summary>The reason of a close frame.</summary>
    public string CloseReason => Payload.Length <= 2 ? string.Empty : Encoding.UTF8.GetString(Payload, 2, Payload.Length - 2);

    public string PayloadText => Encoding.UTF8.GetString(Payload);

    public override string ToString()
        => $"frame(opcode 0x{Opcode:X}, fin {Fin}, rsv {Rsv}, masked {Masked}, {Payload.Length} bytes{(Opcode == Close ? $", close {CloseCode} '{CloseReason}'" : string.Empty)})";

    /// <summary>A close payload: a 2-byte status code and a UTF-8 reason (§5.5.1).</summary>
    public static byte[] ClosePayload(ushort code, string reason = "")
    {
        var payload = new byte[2 + Encoding.UTF8.GetByteCount(reason)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, code);
        Encoding.UTF8.GetBytes(reason, payload.AsSpan(2));
        return payload;
    }

    /// <summary>
    /// Writes a frame: masked with <paramref name="maskKey"/> (or a fixed key) when <paramref name="mask"/> is set.
    /// <paramref name="declaredLength"/> overrides the length written in the header (for malformed frames); the payload
    /// bytes written are always <paramref name="payload"/>.
    /// </summary>
    public static byte[] Encode(
        byte opcode, ReadOnlySpan<byte> payload, bool fin = true, bool mask = false, byte rsv = 0, byte[]? maskKey = null, ulong? declaredLength = null)
    {
        var length = declaredLength ?? (ulong)payload.Length;
        var extended = length < 126 ? 0 : length <= ushort.MaxValue ? 2 : 8;
        var headerLength = 2 + extended + (mask ? 4 : 0);
        var frame = new byte[headerLength + payload.Length];
        frame[0] = (byte)((fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0x0F));
        frame[1] = (byte)((mask ? 0x80 : 0) | (extended == 0 ? (int)length : extended == 2 ? 126 : 127));
        if (extended == 2)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)length);
        }
        else if (extended == 8)
        {
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), length);
        }

        payload.CopyTo(frame.AsSpan(headerLength));
        if (mask)
        {
            var key = maskKey ?? [0x37, 0xFA, 0x21, 0x3D];
            key.CopyTo(frame.AsSpan(headerLength - 4));
            ApplyMask(frame.AsSpan(headerLength), key);
        }

        return frame;
    }

    /// <summary>XORs <paramref name="data"/> with the 4-byte <paramref name="key"/> from the payload's first byte (§5.3).</summary>
    public static void ApplyMask(Span<byte> data, ReadOnlySpan<byte> key)
    {
        // 8 bytes at a time: every 8-aligned offset of the payload starts at key byte 0.
        Span<byte> key8 = [key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]];
        var key64 = MemoryMarshal.Read<ulong>(key8);
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        for (var i = 0; i < words.Length; i++)
        {
            words[i] ^= key64;
        }

        for (var i = words.Length * 8; i < data.Length; i++)
        {
            data[i] ^= key[i & 3];
        }
    }
}
