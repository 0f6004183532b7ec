using System.Collections.Concurrent;

namespace Bctrl.Relay.State;

/// <summary>The embedded default's revocations: one process, so the view is never stale.</summary>
internal sealed class InMemoryRevocationView : IRevocationView
{
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _revoked = new();

    public event Action<Guid>? Terminated;

    public TimeSpan Age => TimeSpan.Zero;

    public bool IsRevoked(Guid connectionId) => _revoked.ContainsKey(connectionId);

    public ValueTask RevokeAsync(Guid connectionId, DateTimeOffset expiresAt, bool terminate, CancellationToken cancellationToken)
    {
        _revoked[connectionId] = expiresAt;
        if (terminate)
        {
            Terminated?.Invoke(connectionId);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>A revocation is needed only until its lease expires on its own (plus a minute for clock skew).</summary>
    public int Sweep(DateTimeOffset now)
    {
        var dropped = 0;
        foreach (var (id, expiresAt) in _revoked)
        {
            if (expiresAt + TimeSpan.FromMinutes(1) < now && _revoked.TryRemove(id, out _))
            {
                dropped++;
            }
        }

        return dropped;
    }
}
