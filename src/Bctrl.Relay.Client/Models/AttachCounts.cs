namespace Bctrl.Relay.Client;

/// <summary>How many attaches a lease has open now and has made in all.</summary>
/// <param name="Live">Open now.</param>
/// <param name="Total">Made in all.</param>
public sealed record AttachCounts(long Live, long Total);
