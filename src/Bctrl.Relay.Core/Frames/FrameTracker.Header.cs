using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Bctrl.Relay.Frames;

internal partial struct FrameTracker
{
    /// <summary>RFC 6455 §5.5: all control frames have a payload of 125 bytes or less.</summary>
    public const int MaxControlPayload = 125;

    /// <summary>2 fixed bytes, 8 bytes of extended length, 4 bytes of masking key.</summary>
    public const int MaxHeaderLength = 14;

    // Bit i set when opcode i is defined by RFC 6455 §5.2: 0x0-0x2 (data) and 0x8-0xA (control).
    // 0x3-0x7 and 0xB-0xF are reserved and no extension is negotiated, so they are violations.
    private const int KnownOpcodes = 0b0000_0111_0000_0111;

    /// <summary>Header length implied by the second header byte (mask bit and 7-bit length).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int HeaderLength(byte second)
    {
        var length7 = second & 0x7F;
        var extended = length7 < 126 ? 0 : length7 == 126 ? 2 : 8;
        return 2 + extended + ((second >> 7) * 4);
    }

    /// <summary>
    /// Parses and validates a whole header against the current message state without changing any state.
    /// Checks run in a fixed order, so a header breaking several rules always reports the same violation.
    /// </summary>
    /// <remarks>
    /// RFC 6455 §5.2, network byte order:
    /// <code>
    ///   byte 0            byte 1            bytes 2..             then
    ///   F R R R oooo      M lllllll         extended length       masking key
    ///   I S S S opcode    A length7         126: 2 bytes (uint16) 4 bytes, only when MASK = 1
    ///   N V V V           S                 127: 8 bytes (uint64,
    ///     1 2 3           K                      top bit 0)
    /// </code>
    /// §5.2: "the minimal number of bytes MUST be used to encode the length", so a 16-bit form carrying less than 126
    /// or a 64-bit form carrying less than 65536 is a violation (issue 8: a relay that forwards such frames hands the
    /// peer a stream a strict endpoint must fail). The length rules are checked before the control-frame rules.
    /// </remarks>
    private readonly FrameViolation ReadHeader(ReadOnlySpan<byte> header, out FrameHeader parsed)
    {
        parsed = default;
        var first = header[0];
        var second = header[1];

        // §5.2: RSV1-3 MUST be 0 unless an extension defines them; the relay negotiates none.
        if ((first & 0x70) != 0)
        {
            return FrameViolation.ReservedBits;
        }

        var opcode = first & 0x0F;
        if (((KnownOpcodes >> opcode) & 1) == 0)
        {
            return FrameViolation.UnknownOpcode;
        }

        // §5.1: a client masks every frame, a server masks none; either side fails the connection otherwise.
        var masked = (second & 0x80) != 0;
        if (masked != (_direction == FrameDirection.ClientToRuntime))
        {
            return FrameViolation.MaskBitMismatch;
        }

        var length7 = second & 0x7F;
        long payloadLength;
        if (length7 < 126)
        {
            payloadLength = length7;
        }
        else if (length7 == 126)
        {
            payloadLength = BinaryPrimitives.ReadUInt16BigEndian(header.Slice(2));
            if (payloadLength < 126)
            {
                return FrameViolation.NonMinimalLength;
            }
        }
        else
        {
            // §5.2: "the most significant bit MUST be 0".
            var length64 = BinaryPrimitives.ReadUInt64BigEndian(header.Slice(2));
            if (length64 > long.MaxValue)
            {
                return FrameViolation.LengthTopBit;
            }

            if (length64 <= ushort.MaxValue)
            {
                return FrameViolation.NonMinimalLength;
            }

            payloadLength = (long)length64;
        }

        var fin = (first & 0x80) != 0;
        var kind = (WebSocketOpcode)opcode;
        if ((opcode & 0x8) != 0)
        {
            // §5.5: control frames MUST NOT be fragmented and carry at most 125 bytes.
            if (!fin)
            {
                return FrameViolation.ControlFrameFragmented;
            }

            if (payloadLength > MaxControlPayload)
            {
                return FrameViolation.ControlFrameTooLong;
            }

            // §5.5.1: a close body, when present, starts with a 2-byte status code; one byte cannot be one.
            if (kind == WebSocketOpcode.Close && payloadLength == 1)
            {
                return FrameViolation.InvalidClosePayload;
            }
        }
        else if (kind == WebSocketOpcode.Continuation)
        {
            // §5.4: a continuation only follows a non-final data frame.
            if (!_inMessage)
            {
                return FrameViolation.UnexpectedContinuation;
            }

            // Subtraction instead of addition: payloadLength can be up to 2^63 - 1 and must not overflow.
            if (payloadLength > _maxMessageBytes - _messageBytes)
            {
                return FrameViolation.MessageTooBig;
            }
        }
        else
        {
            // §5.4: fragments of one message are not interleaved with another data message.
            if (_inMessage)
            {
                return FrameViolation.ExpectedContinuation;
            }

            if (payloadLength > _maxMessageBytes)
            {
                return FrameViolation.MessageTooBig;
            }
        }

        var headerLength = header.Length;
        var maskKey = masked ? MemoryMarshal.Read<int>(header.Slice(headerLength - 4)) : 0;
        parsed = new FrameHeader(fin, kind, masked, maskKey, payloadLength, headerLength);
        return FrameViolation.None;
    }
}
