namespace Bctrl.Relay.Leases;

/// <summary>What a lease opens; carried in the token's protocol byte, so it is signed and every node reads it alike.</summary>
internal enum LeaseProtocol : byte
{
    /// <summary>CDP attaches and discovery under <c>/cdp/{token}</c>.</summary>
    Cdp = 1,

    /// <summary>The live view under <c>/live/{token}</c>, watching only (docs/live-view.md).</summary>
    Live = 2,

    /// <summary>
    /// The live view with mouse and keyboard forwarded: a protocol value of its own rather than a new claim, so the
    /// token's layout (and every token issued before) stays as it was and verification reads nothing more.
    /// </summary>
    LiveInteractive = 3,
}
