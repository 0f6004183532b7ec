using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text.Unicode;

namespace Bctrl.Relay.Frames;

/// <summary>Frames the relay writes itself: closes and keep-alive pings, masked towards the runtime, unmasked towards the client.</summary>
internal static class RelayFrames
{
    /// <summary>Largest frame these writers produce: a 2-byte header, a 4-byte mask and a 125-byte payload.</summary>
    public const int MaxFrameLength = 2 + 4 + 125;

    /// <summary>RFC 6455 §5.5.1: a close payload is a 2-byte code and a reason, within the 125-byte control limit.</summary>
    public const int MaxCloseReasonBytes = FrameTracker.MaxControlPayload - 2;

    // RFC 6455 §7.4.1: "no status code was actually present"; never sent on the wire.
    private const ushort NoStatusCode = 1005;

    /// <summary>Writes a close frame with <paramref name="code"/> and a UTF-8 reason cut to fit 123 bytes; masked with <paramref name="maskKey"/> when it is not null. Returns the frame length.</summary>
    /// <remarks>The reason is cut between characters, never inside one (§5.5.1: the reason is UTF-8 and a peer may
    /// fail the connection on invalid UTF-8); a lone surrogate becomes U+FFFD for the same reason.</remarks>
    public static int WriteClose(Span<byte> destination, ushort code, ReadOnlySpan<char> reason, int? maskKey)
    {
        // Utf8.FromUtf16 stops before a character that does not fit, so the cut lands on a character boundary.
        Span<byte> reasonBytes = stackalloc byte[MaxCloseReasonBytes];
        Utf8.FromUtf16(reason, reasonBytes, out _, out var reasonLength, replaceInvalidSequences: true, isFinalBlock: true);

        var payloadLength = 2 + reasonLength;
        var headerLength = WriteHeader(destination, WebSocketOpcode.Close, payloadLength, maskKey);
        Span<byte> payload = destination.Slice(headerLength, payloadLength);
        BinaryPrimitives.WriteUInt16BigEndian(payload, code);
        reasonBytes.Slice(0, reasonLength).CopyTo(payload.Slice(2));
        if (maskKey is { } key)
        {
            WebSocketMask.Apply(payload, key, 0);
        }

        return headerLength + payloadLength;
    }

    /// <summary>Writes a ping frame carrying <paramref name="payload"/> (≤ 125 bytes), masked when <paramref name="maskKey"/> is not null. Returns the frame length.</summary>
    public static int WritePing(Span<byte> destination, ReadOnlySpan<byte> payload, int? maskKey)
    {
        if (payload.Length > FrameTracker.MaxControlPayload)
        {
            ThrowPayloadTooLong();
        }

        var headerLength = WriteHeader(destination, WebSocketOpcode.Ping, payload.Length, maskKey);
        Span<byte> written = destination.Slice(headerLength, payload.Length);
        payload.CopyTo(written);
        if (maskKey is { } key)
        {
            WebSocketMask.Apply(written, key, 0);
        }

        return headerLength + payload.Length;
    }

    /// <summary>Reads the status code of a close payload (unmasked): 1005 (no status) when it is empty.</summary>
    /// <remarks>A 1-byte payload also reads as 1005; <see cref="FrameTracker"/> rejects it before anyone reads it.</remarks>
    public static ushort ReadCloseCode(ReadOnlySpan<byte> closePayload)
        => closePayload.Length < 2 ? NoStatusCode : BinaryPrimitives.ReadUInt16BigEndian(closePayload);

    /// <summary>
    /// Writes a FIN control-frame header with a 7-bit length (§5.2), and the masking key when there is one,
    /// written exactly as <see cref="FrameHeader.MaskKey"/> reads it back.
    /// </summary>
    private static int WriteHeader(Span<byte> destination, WebSocketOpcode opcode, int payloadLength, int? maskKey)
    {
        var headerLength = maskKey is null ? 2 : 6;
        if (destination.Length < headerLength + payloadLength)
        {
            ThrowDestinationTooSmall();
        }

        destination[0] = (byte)(0x80 | (int)opcode);
        destination[1] = (byte)((maskKey is null ? 0 : 0x80) | payloadLength);
        if (maskKey is { } key)
        {
            MemoryMarshal.Write(destination.Slice(2), in key);
        }

        return headerLength;
    }

    [DoesNotReturn]
    private static void ThrowDestinationTooSmall()
        => throw new ArgumentException($"The destination must hold the whole frame, up to {MaxFrameLength} bytes.", "destination");

    [DoesNotReturn]
    private static void ThrowPayloadTooLong()
        => throw new ArgumentOutOfRangeException("payload", $"A control payload carries at most {FrameTracker.MaxControlPayload} bytes (RFC 6455 §5.5).");
}
