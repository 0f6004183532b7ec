namespace Bctrl.Relay.Frames;

/// <summary>RFC 6455 §5.3 masking: XOR with the 4-byte key, rotating from <c>offset</c> bytes into the payload.</summary>
internal static class WebSocketMask
{
    /// <summary>Masks or unmasks <paramref name="data"/> in place. <paramref name="payloadOffset"/> is the position of data[0] within the payload.</summary>
    public static void Apply(Span<byte> data, int maskKey, long payloadOffset) => throw new NotImplementedException();
}
