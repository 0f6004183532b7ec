using System.Text;
using Bctrl.Relay.Control;
using Bctrl.Relay.Leases;
using Bctrl.Relay.Options;
using Bctrl.Relay.State;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Attach;

/// <summary>An admitted lease: which connection, and the runtime it leads to.</summary>
internal readonly record struct AdmittedLease(Guid ConnectionId, RuntimeRecord Runtime);

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

        var (connectionId, runtimeId, error) = Verify(token);
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
            LeaseStanding.Active => (new AdmittedLease(connectionId, runtime), null),
            LeaseStanding.Deleted => (default, ApiError.LeaseRevoked),
            LeaseStanding.Unknown => (default, ApiError.LeaseUnknown),
            LeaseStanding.Unavailable => (default, ApiError.RevocationsStale),
            _ => (default, ApiError.InvalidLease),
        };
    }

    private (Guid ConnectionId, string RuntimeId, ApiError? Error) Verify(string token)
    {
        Span<byte> scratch = stackalloc byte[LeaseTokens.ScratchBytes];
        var result = tokens.Verify(token, scratch, out var lease);
        return result switch
        {
            LeaseVerifyResult.Valid when lease.Protocol == LeaseProtocol.Cdp
                => (lease.ConnectionId, Encoding.ASCII.GetString(lease.RuntimeId), null),
            LeaseVerifyResult.Expired => (default, string.Empty, ApiError.LeaseExpired),
            _ => (default, string.Empty, ApiError.InvalidLease),
        };
    }
}
