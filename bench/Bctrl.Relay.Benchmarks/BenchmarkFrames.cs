using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Benchmarks;

/// <summary>Binary frames of a given payload length for the splice benchmarks, masked as a client sends them or not.</summary>
internal static class BenchmarkFrames
{
    private const int MaskKey = 0x1A2B3C4D;

    public static byte[] Frame(int payloadLength, bool masked)
    {
        var headerLength = 2 + (payloadLength < 126 ? 0 : payloadLength <= ushort.MaxValue ? 2 : 8) + (masked ? 4 : 0);
        var frame = new byte[headerLength + payloadLength];
        frame[0] = 0x80 | (byte)WebSocketOpcode.Binary;
        var offset = 2;
        if (payloadLength < 126)
        {
            frame[1] = (byte)payloadLength;
        }
        else if (payloadLength <= ushort.MaxValue)
        {
            frame[1] = 126;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payloadLength);
            offset = 4;
        }
        else
        {
            frame[1] = 127;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payloadLength);
            offset = 10;
        }

        if (masked)
        {
            frame[1] |= 0x80;
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(offset), MaskKey);
            offset += 4;
        }

        Random.Shared.NextBytes(frame.AsSpan(offset));
        return frame;
    }
}
