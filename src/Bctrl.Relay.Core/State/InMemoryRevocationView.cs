using System.Collections.Concurrent;

namespace Bctrl.Relay.State;

/// <summary>The embedded default's revocations: one process, so the view is never stale.</summary>
/// <param name="grace">
/// How long a revocation outlives its lease's expiry: at least the clock skew its token verifies with (a token is
/// accepted until expiry plus skew), so that a deleted lease is never admitted again (issue 8, finding 3).
/// </param>
internal sealed class InMemoryRevocationView(TimeSpan grace) : IRevocationView
{
    // Lease id → the time after which the revocation may go (expiry plus grace).
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _revoked = new();

    public event Action<Guid>? Terminated;

    public TimeSpan Age => TimeSpan.Zero;

    public bool IsRevoked(Guid connectionId) => _revoked.ContainsKey(connectionId);

    public ValueTask RevokeAsync(Guid connectionId, DateTimeOffset expiresAt, bool terminate, CancellationToken cancellationToken)
    {
        _revoked[connectionId] = expiresAt + grace;
        if (terminate)
        {
            Terminated?.Invoke(connectionId);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Drops revocations of leases whose tokens no longer verify (expiry plus the grace); returns how many.</summary>
    public int Sweep(DateTimeOffset now)
    {
        var dropped = 0;
        foreach (var (id, pruneAfter) in _revoked)
        {
            if (pruneAfter < now && _revoked.TryRemove(id, out _))
            {
                dropped++;
            }
        }

        return dropped;
    }
}
