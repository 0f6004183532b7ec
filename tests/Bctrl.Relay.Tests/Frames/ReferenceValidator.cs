using System.Buffers.Binary;
using System.Text;
using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Tests.Frames;

/// <summary>Where a stream that broke no rule stopped: at a frame boundary, or inside a header, control frame or data payload.</summary>
internal enum StreamTail
{
    None,
    InHeader,
    InControlFrame,
    InDataPayload,
}

/// <summary>A frame the reference accepted: its header is whole (a data frame's payload may be cut by the end of the stream).</summary>
internal sealed record ReferenceFrame(int Start, int HeaderLength, bool Fin, int Opcode, long PayloadLength)
{
    public bool IsControl => Opcode >= 8;

    public long End => Start + HeaderLength + PayloadLength;
}

/// <summary>
/// The reference's verdict on a whole stream: the frames before the first violation, the violation and where it lies
/// (the offending frame's first byte, or the first byte after a close), and how far a relay may forward.
/// </summary>
internal sealed record ReferenceVerdict(List<ReferenceFrame> Frames, FrameViolation Violation, int ViolationAt, StreamTail Tail, int TailStart, int Length)
{
    /// <summary>Bytes a relay forwards: all before the violation, or all but a held-back partial header or control frame.</summary>
    public int ForwardLimit => Violation != FrameViolation.None ? ViolationAt : Tail is StreamTail.InHeader or StreamTail.InControlFrame ? TailStart : Length;

    public bool SawClose => Frames.Any(f => f.Opcode == 8);
}

/// <summary>
/// An independent, whole-buffer WebSocket stream validator for the fuzz tests, written from RFC 6455 and not from
/// <see cref="FrameTracker"/>: it walks an array with indices, decodes close reasons with the framework's strict UTF-8
/// decoder, and checks the rules in the order the tracker documents (a header breaking several rules reports the first).
/// </summary>
internal static class ReferenceValidator
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static ReferenceVerdict Validate(byte[] s, bool masked, long limit)
    {
        var frames = new List<ReferenceFrame>();
        var n = s.Length;
        var pos = 0;
        var inMessage = false;
        ulong messageBytes = 0;
        var closed = false;
        while (pos < n)
        {
            if (closed)
            {
                return Broken(FrameViolation.DataAfterClose);
            }

            if (n - pos < 2)
            {
                return new(frames, FrameViolation.None, 0, StreamTail.InHeader, pos, n);
            }

            int b0 = s[pos];
            int b1 = s[pos + 1];
            var length7 = b1 & 0x7F;
            var isMasked = (b1 & 0x80) != 0;
            var headerLength = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (isMasked ? 4 : 0);
            if (n - pos < headerLength)
            {
                return new(frames, FrameViolation.None, 0, StreamTail.InHeader, pos, n);
            }

            if ((b0 & 0x70) != 0)
            {
                return Broken(FrameViolation.ReservedBits);
            }

            var opcode = b0 & 0x0F;
            if (opcode is not (0 or 1 or 2 or 8 or 9 or 10))
            {
                return Broken(FrameViolation.UnknownOpcode);
            }

            if (isMasked != masked)
            {
                return Broken(FrameViolation.MaskBitMismatch);
            }

            ulong length = length7 switch
            {
                126 => BinaryPrimitives.ReadUInt16BigEndian(s.AsSpan(pos + 2)),
                127 => BinaryPrimitives.ReadUInt64BigEndian(s.AsSpan(pos + 2)),
                _ => (ulong)length7,
            };
            if (length7 == 127 && (length & (1UL << 63)) != 0)
            {
                return Broken(FrameViolation.LengthTopBit);
            }

            if ((length7 == 126 && length < 126) || (length7 == 127 && length < 65536))
            {
                return Broken(FrameViolation.NonMinimalLength);
            }

            var fin = (b0 & 0x80) != 0;
            if (opcode >= 8)
            {
                if (!fin)
                {
                    return Broken(FrameViolation.ControlFrameFragmented);
                }

                if (length > 125)
                {
                    return Broken(FrameViolation.ControlFrameTooLong);
                }

                if (opcode == 8 && length == 1)
                {
                    return Broken(FrameViolation.InvalidClosePayload);
                }
            }
            else if (opcode == 0)
            {
                if (!inMessage)
                {
                    return Broken(FrameViolation.UnexpectedContinuation);
                }

                if (messageBytes + length > (ulong)limit)
                {
                    return Broken(FrameViolation.MessageTooBig);
                }
            }
            else
            {
                if (inMessage)
                {
                    return Broken(FrameViolation.ExpectedContinuation);
                }

                if (length > (ulong)limit)
                {
                    return Broken(FrameViolation.MessageTooBig);
                }
            }

            if (opcode >= 8)
            {
                if ((ulong)(n - pos - headerLength) < length)
                {
                    return new(frames, FrameViolation.None, 0, StreamTail.InControlFrame, pos, n);
                }

                var payload = s.AsSpan(pos + headerLength, (int)length).ToArray();
                if (isMasked)
                {
                    for (var i = 0; i < payload.Length; i++)
                    {
                        payload[i] ^= s[pos + headerLength - 4 + (i % 4)];
                    }
                }

                if (opcode == 8 && payload.Length >= 2)
                {
                    var code = (payload[0] << 8) | payload[1];
                    if (!MaySend(code))
                    {
                        return Broken(FrameViolation.InvalidCloseCode);
                    }

                    try
                    {
                        StrictUtf8.GetString(payload, 2, payload.Length - 2);
                    }
                    catch (DecoderFallbackException)
                    {
                        return Broken(FrameViolation.InvalidCloseReason);
                    }
                }

                frames.Add(new(pos, headerLength, fin, opcode, (long)length));
                pos += headerLength + (int)length;
                closed |= opcode == 8;
                continue;
            }

            frames.Add(new(pos, headerLength, fin, opcode, (long)length));
            messageBytes = opcode == 0 ? messageBytes + length : length;
            inMessage = !fin;
            if ((ulong)(n - pos - headerLength) < length)
            {
                return new(frames, FrameViolation.None, 0, StreamTail.InDataPayload, pos, n);
            }

            pos += headerLength + (int)length;
        }

        return new(frames, FrameViolation.None, 0, StreamTail.None, n, n);

        ReferenceVerdict Broken(FrameViolation violation) => new(frames, violation, pos, StreamTail.None, pos, n);
    }

    /// <summary>RFC 6455 §7.4.1-§7.4.2 and the IANA registry, listed rather than computed.</summary>
    private static bool MaySend(int code)
        => code switch
        {
            1000 or 1001 or 1002 or 1003 or 1007 or 1008 or 1009 or 1010 or 1011 or 1012 or 1013 or 1014 => true,
            _ => code >= 3000 && code < 5000,
        };
}
