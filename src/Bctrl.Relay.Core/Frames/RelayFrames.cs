namespace Bctrl.Relay.Frames;

/// <summary>Frames the relay writes itself: closes and keep-alive pings, masked towards the runtime, unmasked towards the client.</summary>
internal static class RelayFrames
{
    /// <summary>Largest frame these writers produce: a 2-byte header, a 4-byte mask and a 125-byte payload.</summary>
    public const int MaxFrameLength = 2 + 4 + 125;

    /// <summary>Writes a close frame with <paramref name="code"/> and a UTF-8 reason cut to fit 123 bytes; masked with <paramref name="maskKey"/> when it is not null. Returns the frame length.</summary>
    public static int WriteClose(Span<byte> destination, ushort code, ReadOnlySpan<char> reason, int? maskKey) => throw new NotImplementedException();

    /// <summary>Writes a ping frame carrying <paramref name="payload"/> (≤ 125 bytes), masked when <paramref name="maskKey"/> is not null. Returns the frame length.</summary>
    public static int WritePing(Span<byte> destination, ReadOnlySpan<byte> payload, int? maskKey) => throw new NotImplementedException();

    /// <summary>Reads the status code of a close payload (unmasked): 1005 (no status) when it is empty.</summary>
    public static ushort ReadCloseCode(ReadOnlySpan<byte> closePayload) => throw new NotImplementedException();
}
