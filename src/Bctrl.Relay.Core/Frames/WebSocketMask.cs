using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Bctrl.Relay.Frames;

/// <summary>RFC 6455 §5.3 masking: XOR with the 4-byte key, rotating from <c>offset</c> bytes into the payload.</summary>
internal static class WebSocketMask
{
    /// <summary>Masks or unmasks <paramref name="data"/> in place. <paramref name="payloadOffset"/> is the position of data[0] within the payload.</summary>
    /// <remarks>
    /// §5.3: <c>transformed[i] = original[i] XOR key[i MOD 4]</c>. The key is first rotated so that its first byte in
    /// memory is the one <c>data[0]</c> needs; after that every 4-aligned block of the span uses the key unchanged,
    /// so whole vectors, then 8 and 4 bytes, are XORed with the key repeated, and only the last 0-3 bytes go one by one.
    /// </remarks>
    public static void Apply(Span<byte> data, int maskKey, long payloadOffset)
    {
        if (data.IsEmpty)
        {
            return;
        }

        var shift = (int)(payloadOffset & 3) * 8;
        var key = BitConverter.IsLittleEndian
            ? (int)BitOperations.RotateRight((uint)maskKey, shift)
            : (int)BitOperations.RotateLeft((uint)maskKey, shift);

        ref var start = ref MemoryMarshal.GetReference(data);
        var length = (nuint)data.Length;
        nuint i = 0;

        if (Vector.IsHardwareAccelerated && length >= (nuint)Vector<byte>.Count)
        {
            // Vector<byte>.Count is a multiple of 4, so the key phase is the same at the start of every vector.
            var keyVector = Vector.AsVectorByte(new Vector<int>(key));
            var lastVector = length - (nuint)Vector<byte>.Count;
            for (; i <= lastVector; i += (nuint)Vector<byte>.Count)
            {
                ref var at = ref Unsafe.Add(ref start, i);
                Unsafe.WriteUnaligned(ref at, Unsafe.ReadUnaligned<Vector<byte>>(ref at) ^ keyVector);
            }
        }

        // Both halves hold the same four bytes, so the order of the halves in memory does not matter.
        var key64 = (uint)key | ((ulong)(uint)key << 32);
        for (; i + 8 <= length; i += 8)
        {
            ref var at = ref Unsafe.Add(ref start, i);
            Unsafe.WriteUnaligned(ref at, Unsafe.ReadUnaligned<ulong>(ref at) ^ key64);
        }

        if (i + 4 <= length)
        {
            ref var at = ref Unsafe.Add(ref start, i);
            Unsafe.WriteUnaligned(ref at, Unsafe.ReadUnaligned<uint>(ref at) ^ (uint)key);
            i += 4;
        }

        // i is a multiple of 4 here, so the remaining bytes take key bytes 0, 1, 2 in memory order.
        ReadOnlySpan<byte> keyBytes = MemoryMarshal.AsBytes(new ReadOnlySpan<int>(in key));
        for (nuint j = 0; i < length; i++, j++)
        {
            Unsafe.Add(ref start, i) ^= keyBytes[(int)j];
        }
    }
}
