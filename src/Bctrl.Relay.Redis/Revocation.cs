namespace Bctrl.Relay.Redis;

/// <summary>One revocation as a node holds it: 16 bytes beside its 16-byte key.</summary>
/// <param name="PruneAfter">Unix seconds after which the lease has expired on its own (plus a grace for clock skew).</param>
/// <param name="Terminate">Whether live attaches of the lease are to be closed too.</param>
internal readonly record struct Revocation(long PruneAfter, bool Terminate);
