using System.Diagnostics;

namespace Bctrl.Relay.Leases;

/// <summary>One key of the ring: an id carried in every token it signs, and an HMAC-SHA256 secret of at least 32 bytes.</summary>
/// <remarks>
/// The id and the secret are checked by <see cref="LeaseKeyRing"/>, which owns the rules for a ring as a whole.
/// The secret is copied in, never handed out as an array, and never printed: <see cref="ToString"/> shows the id only.
/// </remarks>
[DebuggerDisplay("{ToString(),nq}")]
internal sealed class SigningKey
{
    [DebuggerBrowsable(DebuggerBrowsableState.Never)]
    private readonly byte[] _secret;

    public SigningKey(string id, byte[] secret)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(secret);
        Id = id;
        _secret = (byte[])secret.Clone();
    }

    public string Id { get; }

    public ReadOnlySpan<byte> Secret => _secret;

    /// <summary>The id and the secret's length; never the secret.</summary>
    public override string ToString() => $"SigningKey({Id}, {_secret.Length} bytes)";
}
