using System.Text;
using Bctrl.Relay.Control;
using Bctrl.Relay.Leases;
using Bctrl.Relay.Options;
using Bctrl.Relay.State;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Attach;

/// <summary>An admitted lease: which connection, the runtime it leads to, and the one target it is scoped to (or null).</summary>
internal readonly record struct AdmittedLease(Guid ConnectionId, RuntimeRecord Runtime, string? ScopeTarget = null)
{
    private const string PagePrefix = "/devtools/page/";

    /// <summary>
    /// Whether the lease may attach to the runtime's socket at <paramref name="socketPath"/> (null: the browser socket
    /// behind <c>/cdp/{token}</c>). A scoped lease reaches its own page's socket and nothing else (docs/scope.md).
    /// </summary>
    public bool Reaches(string? socketPath) =>
        ScopeTarget is null
        || (socketPath is not null
            && socketPath.StartsWith(PagePrefix, StringComparison.Ordinal)
            && socketPath.AsSpan(PagePrefix.Length).SequenceEqual(ScopeTarget));

    /// <summary>Whether a target command (<c>/json/activate|close/{id}</c>) for <paramref name="targetId"/> is the lease's to send.</summary>
    public bool ReachesTarget(string targetId) => ScopeTarget is null || string.Equals(targetId, ScopeTarget, StringComparison.Ordinal);
}

/// <summary>
/// docs/design.md §4 step 1, shared by attaches and discovery: verify the token (no I/O), refuse when the revocation view is
/// stale (fail closed), resolve the runtime, check the revocation view (in memory), then the lease's record (in memory,
/// or one bounded Redis read): a lease whose record is gone is refused (issue 8, finding 2), since nothing could revoke it.
/// </summary>
internal sealed class LeaseGate(
    LeaseTokens tokens,
    IRevocationView revocations,
    IRuntimeStore runtimes,
    IConnectionStore connections,
    AttachRegistry registry,
    IOptions<RelayOptions> options)
{
    public async ValueTask<(AdmittedLease Lease, ApiError? Error)> AdmitAsync(string token, CancellationToken cancellationToken)
    {
        if (registry.IsDraining)
        {
            return (default, ApiError.Draining);
        }

        var (connectionId, runtimeId, scopeTarget, error) = Verify(token);
        if (error is not null)
        {
            return (default, error);
        }

        if (revocations.Age > options.Value.Revocations.MaxStaleness)
        {
            return (default, ApiError.RevocationsStale);
        }

        // The runtime first, so a lease of a deleted runtime says so (404); deleting a runtime also revokes its
        // leases, which keeps them refused (401) if the id is registered again.
        var runtime = await runtimes.GetAsync(runtimeId, cancellationToken);
        if (runtime is null)
        {
            return (default, ApiError.RuntimeNotFound);
        }

        if (revocations.IsRevoked(connectionId))
        {
            return (default, ApiError.LeaseRevoked);
        }

        // The record as well as the view: the view refuses leases deleted while it was held, the record those whose
        // revocation never reached it (a DELETE cut off between its two writes), and the record's absence those that
        // Redis lost, whose revocation could never be written.
        var standing = await connections.CheckAsync(connectionId, runtimeId, cancellationToken);
        return standing switch
        {
            LeaseStanding.Active => (new AdmittedLease(connectionId, runtime, scopeTarget), null),
            LeaseStanding.Deleted => (default, ApiError.LeaseRevoked),
            LeaseStanding.Unknown => (default, ApiError.LeaseUnknown),
            LeaseStanding.Unavailable => (default, ApiError.RevocationsStale),
            _ => (default, ApiError.InvalidLease),
        };
    }

    private (Guid ConnectionId, string RuntimeId, string? ScopeTarget, ApiError? Error) Verify(string token)
    {
        Span<byte> scratch = stackalloc byte[LeaseTokens.ScratchBytes];
        var result = tokens.Verify(token, scratch, out var lease);
        return result switch
        {
            LeaseVerifyResult.Valid when lease.Protocol == LeaseProtocol.Cdp
                => (lease.ConnectionId, Encoding.ASCII.GetString(lease.RuntimeId), lease.IsScoped ? Encoding.ASCII.GetString(lease.ScopeTarget) : null, null),
            LeaseVerifyResult.Expired => (default, string.Empty, null, ApiError.LeaseExpired),
            _ => (default, string.Empty, null, ApiError.InvalidLease),
        };
    }
}
