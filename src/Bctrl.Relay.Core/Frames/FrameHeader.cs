namespace Bctrl.Relay.Frames;

/// <summary>A parsed frame header (RFC 6455 §5.2).</summary>
internal readonly struct FrameHeader
{
    public FrameHeader(bool fin, WebSocketOpcode opcode, bool masked, int maskKey, long payloadLength, int headerLength)
    {
        Fin = fin;
        Opcode = opcode;
        Masked = masked;
        MaskKey = maskKey;
        PayloadLength = payloadLength;
        HeaderLength = headerLength;
    }

    public bool Fin { get; }

    public WebSocketOpcode Opcode { get; }

    public bool Masked { get; }

    /// <summary>The four masking-key bytes exactly as on the wire, read in machine order (<c>MemoryMarshal.Read&lt;int&gt;</c>).</summary>
    public int MaskKey { get; }

    public long PayloadLength { get; }

    /// <summary>2 to 14 bytes.</summary>
    public int HeaderLength { get; }

    public long FrameLength => HeaderLength + PayloadLength;

    public bool IsControl => ((byte)Opcode & 0x8) != 0;
}
