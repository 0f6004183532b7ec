using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Tests.Frames;

/// <summary>How a frame's payload length is written (RFC 6455 §5.2); the longer forms need not be minimal.</summary>
internal enum LengthForm
{
    Minimal,
    Bits16,
    Bits64,
}

/// <summary>A frame written by <see cref="FrameStreamBuilder"/>, with its payload before masking.</summary>
internal sealed record BuiltFrame(int Start, int HeaderLength, bool Fin, WebSocketOpcode Opcode, bool Masked, int MaskKey, byte[] Payload)
{
    public int End => Start + HeaderLength + Payload.Length;

    public bool IsControl => ((int)Opcode & 0x8) != 0;

    public FrameHeader Header => new(Fin, Opcode, Masked, Masked ? MaskKey : 0, Payload.Length, HeaderLength);
}

/// <summary>Writes a byte stream of frames, masked or not, and remembers where each frame lies.</summary>
internal sealed class FrameStreamBuilder
{
    private readonly List<byte> _bytes = [];
    private readonly List<BuiltFrame> _frames = [];
    private int _nextKey = 0x1F2E3D4C;

    public FrameStreamBuilder(bool masked) => Masked = masked;

    public bool Masked { get; }

    public IReadOnlyList<BuiltFrame> Frames => _frames;

    public int Length => _bytes.Count;

    public byte[] ToArray() => [.. _bytes];

    /// <summary>Appends a well-formed frame (unless the arguments make it otherwise) whose payload is a fixed pattern.</summary>
    public FrameStreamBuilder Add(WebSocketOpcode opcode, int payloadLength, bool fin = true, LengthForm form = LengthForm.Minimal)
        => Add(opcode, Pattern(payloadLength, _frames.Count), fin, form);

    public FrameStreamBuilder Add(WebSocketOpcode opcode, byte[] payload, bool fin = true, LengthForm form = LengthForm.Minimal)
    {
        var key = NextKey();
        var start = _bytes.Count;
        var header = Header(fin, (int)opcode, Masked, (ulong)payload.Length, form, rsv: 0, key);
        _bytes.AddRange(header);
        var wire = (byte[])payload.Clone();
        if (Masked)
        {
            NaiveMask(wire, key, 0);
        }

        _bytes.AddRange(wire);
        _frames.Add(new BuiltFrame(start, header.Length, fin, opcode, Masked, key, payload));
        return this;
    }

    /// <summary>Appends bytes as they are (a malformed frame, say); they are not recorded as a frame.</summary>
    public FrameStreamBuilder AddRaw(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            _bytes.Add(b);
        }

        return this;
    }

    public int NextKey()
    {
        // Distinct, non-zero, every byte different so a wrong key rotation shows.
        var key = _nextKey;
        _nextKey = (int)((uint)_nextKey * 2654435761u) ^ 0x0A0B0C0D;
        return key;
    }

    /// <summary>Writes a frame header exactly as asked, legal or not.</summary>
    public static byte[] Header(bool fin, int opcode, bool masked, ulong payloadLength, LengthForm form, int rsv, int maskKey)
    {
        if (form == LengthForm.Minimal)
        {
            form = payloadLength < 126 ? LengthForm.Minimal : payloadLength <= ushort.MaxValue ? LengthForm.Bits16 : LengthForm.Bits64;
        }

        var extended = form switch
        {
            LengthForm.Bits16 => 2,
            LengthForm.Bits64 => 8,
            _ => 0,
        };
        var header = new byte[2 + extended + (masked ? 4 : 0)];
        header[0] = (byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode);
        var length7 = form switch
        {
            LengthForm.Bits16 => 126,
            LengthForm.Bits64 => 127,
            _ => (int)payloadLength,
        };
        header[1] = (byte)((masked ? 0x80 : 0) | length7);
        if (form == LengthForm.Bits16)
        {
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)payloadLength);
        }
        else if (form == LengthForm.Bits64)
        {
            BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(2), payloadLength);
        }

        if (masked)
        {
            MemoryMarshal.Write(header.AsSpan(2 + extended), in maskKey);
        }

        return header;
    }

    public static byte[] Pattern(int length, int seed)
    {
        var payload = new byte[length];
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)((i * 31) + (seed * 7) + 1);
        }

        return payload;
    }

    /// <summary>RFC 6455 §5.3 byte by byte: the reference the fast masking is checked against.</summary>
    public static void NaiveMask(Span<byte> data, int maskKey, long payloadOffset)
    {
        Span<byte> key = stackalloc byte[4];
        MemoryMarshal.Write(key, in maskKey);
        for (var i = 0; i < data.Length; i++)
        {
            data[i] ^= key[(int)((payloadOffset + i) % 4)];
        }
    }
}
