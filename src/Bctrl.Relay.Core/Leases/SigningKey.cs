namespace Bctrl.Relay.Leases;

/// <summary>One key of the ring: an id carried in every token it signs, and an HMAC-SHA256 secret of at least 32 bytes.</summary>
internal sealed class SigningKey
{
    public SigningKey(string id, byte[] secret) => throw new NotImplementedException();

    public string Id => throw new NotImplementedException();

    public ReadOnlySpan<byte> Secret => throw new NotImplementedException();
}
