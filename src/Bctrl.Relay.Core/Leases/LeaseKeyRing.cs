namespace Bctrl.Relay.Leases;

/// <summary>The signing key ring: entry 0 signs, every entry verifies. Removing a key invalidates its tokens.</summary>
internal sealed class LeaseKeyRing
{
    /// <summary>Throws <see cref="ArgumentException"/> for an empty ring, duplicate ids, a bad id or a short secret.</summary>
    public LeaseKeyRing(IReadOnlyList<SigningKey> keys) => throw new NotImplementedException();

    public SigningKey Current => throw new NotImplementedException();

    public IReadOnlyList<SigningKey> Keys => throw new NotImplementedException();

    /// <summary>Generates one random 32-byte key, for the embedded default.</summary>
    public static LeaseKeyRing Generate() => throw new NotImplementedException();
}
