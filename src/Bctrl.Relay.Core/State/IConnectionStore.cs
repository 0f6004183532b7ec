namespace Bctrl.Relay.State;

/// <summary>Connections (leases) and their attach counts.</summary>
internal interface IConnectionStore
{
    ValueTask CreateAsync(ConnectionRecord connection, CancellationToken cancellationToken);

    ValueTask<ConnectionRecord?> GetAsync(Guid connectionId, CancellationToken cancellationToken);

    /// <summary>
    /// The attach gate's read, on every attach: what the record says about admitting a token for
    /// <paramref name="runtimeId"/>. In memory it does no I/O; in Redis it is one read, bounded in time, whose failure
    /// is <see cref="LeaseStanding.Unavailable"/> (a value, never an exception and never a hang).
    /// </summary>
    ValueTask<LeaseCheck> CheckAsync(Guid connectionId, string runtimeId, CancellationToken cancellationToken);

    /// <summary>Newest first.</summary>
    ValueTask<IReadOnlyList<ConnectionRecord>> ListAsync(string runtimeId, CancellationToken cancellationToken);

    /// <summary>Marks the connection deleted (idempotent); returns the record, or null when it never existed.</summary>
    ValueTask<ConnectionRecord?> MarkDeletedAsync(Guid connectionId, DateTimeOffset at, CancellationToken cancellationToken);

    ValueTask<AttachCounts> GetAttachCountsAsync(Guid connectionId, CancellationToken cancellationToken);

    /// <summary>Counts an attach that opened: live and total go up.</summary>
    ValueTask AttachOpenedAsync(Guid connectionId, CancellationToken cancellationToken);

    /// <summary>Counts an attach that ended: live goes down.</summary>
    ValueTask AttachClosedAsync(Guid connectionId, CancellationToken cancellationToken);
}
