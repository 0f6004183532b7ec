using System.Text;
using Bctrl.Relay.Control;
using Bctrl.Relay.Leases;
using Bctrl.Relay.Options;
using Bctrl.Relay.Policy;
using Bctrl.Relay.State;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Attach;

/// <summary>
/// An admitted lease: which connection, the runtime it leads to, the one target it is scoped to (or null), what its
/// token opens (CDP sockets, or the live view), the CDP method policy and quotas its record carries (or null,
/// docs/policy.md, docs/quotas.md), and whether its attaches keep artifacts (docs/artifacts.md).
/// </summary>
internal readonly record struct AdmittedLease(
    Guid ConnectionId, RuntimeRecord Runtime, string? ScopeTarget = null, LeaseProtocol Protocol = LeaseProtocol.Cdp, MethodPolicy? Policy = null,
    LeaseQuotas? Quotas = null, bool Artifacts = false)
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
    /// <param name="token">The lease token from the path.</param>
    /// <param name="live">
    /// True for the live view's paths (<c>/live/{token}</c>), which admit only live leases; false for <c>/cdp/{token}</c>,
    /// which admits only CDP leases. Either refuses the other's with <see cref="ApiError.LeaseProtocolMismatch"/>.
    /// </param>
    /// <param name="cancellationToken">Ends the state reads.</param>
    public async ValueTask<(AdmittedLease Lease, ApiError? Error)> AdmitAsync(string token, CancellationToken cancellationToken, bool live = false)
    {
        if (registry.IsDraining)
        {
            return (default, ApiError.Draining);
        }

        var (connectionId, runtimeId, scopeTarget, protocol, error) = Verify(token, live);
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
        var check = await connections.CheckAsync(connectionId, runtimeId, cancellationToken);
        return check.Standing switch
        {
            LeaseStanding.Active when (check.Policy is not null && MethodPolicy.FromText(check.Policy) is null)
                    || (check.Quotas is not null && LeaseQuotas.FromText(check.Quotas) is null)
                => (default, ApiError.InvalidLease), // terms this node cannot read: never admit the lease without them (fail closed)
            LeaseStanding.Active => (new AdmittedLease(
                connectionId, runtime, scopeTarget, protocol, MethodPolicy.FromText(check.Policy), LeaseQuotas.FromText(check.Quotas), check.Artifacts), null),
            LeaseStanding.Deleted => (default, ApiError.LeaseRevoked),
            LeaseStanding.Unknown => (default, ApiError.LeaseUnknown),
            LeaseStanding.Unavailable => (default, ApiError.RevocationsStale),
            _ => (default, ApiError.InvalidLease),
        };
    }

    private (Guid ConnectionId, string RuntimeId, string? ScopeTarget, LeaseProtocol Protocol, ApiError? Error) Verify(string token, bool live)
    {
        Span<byte> scratch = stackalloc byte[LeaseTokens.ScratchBytes];
        var result = tokens.Verify(token, scratch, out var lease);
        return result switch
        {
            LeaseVerifyResult.Valid when IsLive(lease.Protocol) == live
                => (lease.ConnectionId, Encoding.ASCII.GetString(lease.RuntimeId), lease.IsScoped ? Encoding.ASCII.GetString(lease.ScopeTarget) : null, lease.Protocol, null),
            LeaseVerifyResult.Valid => (default, string.Empty, null, default, ApiError.LeaseProtocolMismatch),
            LeaseVerifyResult.Expired => (default, string.Empty, null, default, ApiError.LeaseExpired),
            _ => (default, string.Empty, null, default, ApiError.InvalidLease),
        };
    }

    private static bool IsLive(LeaseProtocol protocol) => protocol is LeaseProtocol.Live or LeaseProtocol.LiveInteractive;
}
