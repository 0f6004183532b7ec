using System.IO.Pipelines;
using Bctrl.Relay.Control;
using Bctrl.Relay.Handshake;
using Bctrl.Relay.Metrics;
using Bctrl.Relay.Observation;
using Bctrl.Relay.Options;
using Bctrl.Relay.Splice;
using Bctrl.Relay.State;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Attach;

/// <summary>
/// The data plane's WebSocket endpoint (docs/design.md §4): admit the lease, check the client's handshake, dial the runtime
/// and complete its handshake, and only then answer the client with 101 and splice. Every refusal is a real HTTP
/// answer before any upgrade.
/// </summary>
internal sealed class AttachEndpoint(
    LeaseGate gate,
    RuntimeAddresses addresses,
    AttachRegistry registry,
    IConnectionStore connections,
    IRevocationView revocations,
    SpliceClock clock,
    RelayMetrics metrics,
    Refusals refusals,
    AttachRecorder recorder,
    TimeProvider time,
    IOptions<RelayOptions> options,
    ILogger<AttachEndpoint> logger)
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/cdp/{token}", (HttpContext context, string token, AttachEndpoint endpoint)
            => endpoint.HandleAsync(context, token, socketPath: null));
        foreach (var kind in (string[])["page", "browser"])
        {
            app.MapGet($"/cdp/{{token}}/devtools/{kind}/{{targetId}}", (HttpContext context, string token, string targetId, AttachEndpoint endpoint)
                => Identifiers.IsValidTargetId(targetId)
                    ? endpoint.HandleAsync(context, token, $"/devtools/{kind}/{targetId}")
                    : endpoint.RefuseAsync(context, InvalidTarget));
        }
    }

    public async Task HandleAsync(HttpContext context, string token, string? socketPath)
    {
        var started = time.GetTimestamp();
        var cancellationToken = context.RequestAborted;
        var (lease, refusal) = await gate.AdmitAsync(token, cancellationToken);
        var key = string.Empty;
        refusal ??= ClientHandshake.Validate(context, out key);
        if (refusal is null && !registry.TryTakePlace(options.Value.Limits.MaxAttaches))
        {
            refusal = ApiError.AtCapacity;
        }

        if (refusal is not null)
        {
            await RefuseAsync(context, refusal);
            return;
        }

        try
        {
            var (upstream, error, kept) = await DialAsync(context, lease.Runtime, socketPath, cancellationToken);
            if (upstream is null && kept)
            {
                // The browser path kept from an earlier attach is stale (the browser restarted): ask the runtime again.
                addresses.Forget(lease.Runtime);
                (upstream, error, _) = await DialAsync(context, lease.Runtime, socketPath, cancellationToken);
            }

            if (upstream is null)
            {
                await RefuseAsync(context, error ?? UpstreamDialer.Unreachable);
                return;
            }

            // The lease may have been deleted while the runtime was dialled: check again before the 101.
            if (revocations.IsRevoked(lease.ConnectionId))
            {
                upstream.Socket.Dispose();
                await RefuseAsync(context, ApiError.LeaseRevoked);
                return;
            }

            await SpliceAsync(context, key, lease, upstream, started);
        }
        finally
        {
            registry.ReleasePlace();
        }
    }

    private async Task<(UpstreamConnection? Connection, ApiError? Error, bool Kept)> DialAsync(
        HttpContext context, RuntimeRecord runtime, string? socketPath, CancellationToken cancellationToken)
    {
        var (target, resolveError, kept) = await addresses.ResolveAsync(runtime, socketPath, cancellationToken);
        if (target is null)
        {
            return (null, resolveError, false);
        }

        var subProtocol = context.Request.Headers.SecWebSocketProtocol.ToString();
        var (connection, error) = await UpstreamDialer.DialAsync(
            target, subProtocol.Length == 0 ? null : subProtocol, options.Value.Limits.HandshakeTimeout, cancellationToken);
        return (connection, error, kept);
    }

    private static ApiError InvalidTarget { get; } = new(400, "invalid_target", "The target id is not valid.");

    private Task RefuseAsync(HttpContext context, ApiError refusal) => refusals.RefuseAsync(context, RefusedRequest.Attach, refusal);

    private async Task SpliceAsync(HttpContext context, string key, AdmittedLease lease, UpstreamConnection upstream, long started)
    {
        var headers = context.Response.Headers;
        headers.Upgrade = "websocket";
        headers.Connection = "Upgrade";
        headers.SecWebSocketAccept = WebSocketAccept.Compute(key);
        if (upstream.SubProtocol is not null)
        {
            headers.SecWebSocketProtocol = upstream.SubProtocol;
        }

        Stream upgraded;
        try
        {
            upgraded = await context.Features.Get<IHttpUpgradeFeature>()!.UpgradeAsync();
        }
        catch
        {
            // The client left before its 101: the runtime connection goes with it.
            upstream.Socket.Dispose();
            throw;
        }

        // After the 101, Kestrel's connection pipes carry the WebSocket bytes; splicing them directly skips the
        // upgraded stream's copy. The stream is the fallback for a server that does not expose its transport.
        var transport = options.Value.Splice.ClientTransport == ClientTransport.Pipes
            ? context.Features.Get<IConnectionTransportFeature>()?.Transport
            : null;
        var client = transport ?? new DuplexPipe(PipeReader.Create(upgraded), PipeWriter.Create(upgraded));

        var attachId = registry.NextId();
        var (observer, opened) = recorder.Open(context, attachId, lease.ConnectionId, lease.Runtime.Id);
        using var splice = new AttachSplice(client, new SocketRuntimeLink(upstream.Socket), upstream.Leftover, options.Value.ToSpliceSettings(), clock, observer);
        var live = new LiveAttach(attachId, lease.ConnectionId, lease.Runtime.Id, splice, time.GetUtcNow());
        registry.Add(live);

        // A terminate that came between the check before the 101 and this line found no attach to close: close it
        // now. A plain delete in that window closes it too; refusing is the safe side of the race.
        if (revocations.IsRevoked(lease.ConnectionId))
        {
            splice.Abort(AttachEndReason.LeaseTerminated);
        }

        metrics.AttachAttempted("opened");
        metrics.AttachSetUp(time.GetElapsedTime(started));
        // Counting goes on beside the splice: a slow or absent Redis must neither delay nor fail a live attach.
        var counted = CountAsync(ct => connections.AttachOpenedAsync(lease.ConnectionId, ct));
        RelayLog.AttachOpened(logger, live.Id, live.ConnectionId, live.RuntimeId);
        AttachSummary? summary = null;
        try
        {
            summary = await splice.RunAsync();
            RelayLog.AttachClosed(logger, live.Id, summary.Reason, summary.Detail, summary.ClientCloseCode, summary.RuntimeCloseCode,
                summary.SentToClient.Code, summary.SentToRuntime.Code, summary.FromClient.Bytes, summary.FromRuntime.Bytes,
                transport is null ? "the upgraded stream" : "Kestrel's transport pipes");
            recorder.Close(opened, observer, summary);
        }
        catch (Exception exception)
        {
            RelayLog.AttachFault(logger, live.Id, exception);
        }
        finally
        {
            if (summary is null)
            {
                registry.Remove(live);
            }
            else
            {
                metrics.AttachEnded(live, summary);
            }

            await counted;
            await CountAsync(ct => connections.AttachClosedAsync(lease.ConnectionId, ct));
        }
    }

    /// <summary>Attach counts are bookkeeping: bounded in time, and a failure is swallowed rather than failing the attach.</summary>
    private static async Task CountAsync(Func<CancellationToken, ValueTask> count)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await count(timeout.Token);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The live count of this connection is off until its node record expires (fleet) or the process ends.
        }
    }
}
