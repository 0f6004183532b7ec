namespace Bctrl.Relay.State;

/// <summary>
/// The node's view of revoked leases, consulted on every attach without I/O (docs/design.md §5). A fleet keeps it fresh from
/// Redis; when it is older than the staleness bound, new attaches are refused (fail closed).
/// </summary>
internal interface IRevocationView
{
    bool IsRevoked(Guid connectionId);

    /// <summary>How old the view is; <see cref="TimeSpan.Zero"/> for a view that cannot go stale (in memory).</summary>
    TimeSpan Age { get; }

    /// <summary>Revokes a lease; with <paramref name="terminate"/>, its live attaches on every node are closed too.</summary>
    ValueTask RevokeAsync(Guid connectionId, DateTimeOffset expiresAt, bool terminate, CancellationToken cancellationToken);

    /// <summary>Raised on this node when a revocation asks for live attaches to be terminated.</summary>
    event Action<Guid>? Terminated;
}
