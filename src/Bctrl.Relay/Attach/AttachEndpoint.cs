using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Bctrl.Relay.Control;
using Bctrl.Relay.Handshake;
using Bctrl.Relay.Hosting.Transport;
using Bctrl.Relay.Loops;
using Bctrl.Relay.Metrics;
using Bctrl.Relay.Observation;
using Bctrl.Relay.Options;
using Bctrl.Relay.Policy;
using Bctrl.Relay.Splice;
using Bctrl.Relay.State;
using Bctrl.Relay.Tls;
using Microsoft.AspNetCore.Connections;
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
    RuntimeTrust trust,
    CommandRates rates,
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
                    : endpoint.RefuseAsync(context, ApiError.InvalidTarget));
        }
    }

    public async Task HandleAsync(HttpContext context, string token, string? socketPath)
    {
        var started = time.GetTimestamp();
        var cancellationToken = context.RequestAborted;
        var (lease, refusal) = await gate.AdmitAsync(token, cancellationToken);
        if (refusal is null && !lease.Reaches(socketPath))
        {
            // A scoped lease (docs/scope.md) attaches to its own page only: the browser socket and every other target
            // are refused here, before the handshake is even looked at, so they never see a 101.
            refusal = ApiError.ScopeForbidden;
        }

        var key = string.Empty;
        refusal ??= ClientHandshake.Validate(context, out key);
        if (refusal is null && lease.Quotas?.MaxAttaches is { } maxAttaches && await LiveAttachesAsync(lease.ConnectionId, cancellationToken) >= maxAttaches)
        {
            refusal = ApiError.AttachQuotaExceeded;
        }

        if (refusal is null && !registry.TryTakePlace(options.Value.Limits.MaxAttaches))
        {
            refusal = ApiError.AtCapacity;
        }

        if (refusal is not null)
        {
            await RefuseAsync(context, refusal);
            return;
        }

        var handedOver = false;
        try
        {
            if (context.Features.Get<IConnectionDetachFeature>() is { } detach && !context.Request.IsHttps && !RuntimeTrust.IsTls(lease.Runtime.CdpUrl))
            {
                // The relay transport (issue 9): dial on the connection's loop, detach after the 101, splice there. A
                // TLS leg (an https:// listener, a wss:// runtime) takes the pipe splice below: the loop moves raw
                // bytes, and TLS records need a TLS stream (docs/tls.md).
                var (dial, dialError) = await DialWithRetryAsync(lease.Runtime, socketPath, (target, retryToken) => DialOnLoopAsync(context, target, detach.Loop, retryToken), cancellationToken);
                if (dial is null)
                {
                    await RefuseAsync(context, dialError ?? ApiError.RuntimeUnreachable);
                    return;
                }

                handedOver = await SpliceOnLoopAsync(context, key, lease, dial, detach, started);
                return;
            }

            var (upstream, error) = await DialWithRetryAsync(lease.Runtime, socketPath, (target, retryToken) => DialAsync(context, target, retryToken), cancellationToken);
            if (upstream is null)
            {
                await RefuseAsync(context, error ?? ApiError.RuntimeUnreachable);
                return;
            }

            // The lease may have been deleted while the runtime was dialled: check again before the 101.
            if (revocations.IsRevoked(lease.ConnectionId))
            {
                upstream.Dispose();
                await RefuseAsync(context, ApiError.LeaseRevoked);
                return;
            }

            await SpliceAsync(context, key, lease, upstream, started);
        }
        finally
        {
            if (!handedOver)
            {
                registry.ReleasePlace();
            }
        }
    }

    /// <summary>
    /// Resolves the runtime's WebSocket address and dials it; when the browser path kept from an earlier attach fails
    /// (the browser restarted), asks the runtime again and dials once more.
    /// </summary>
    private async Task<(T? Connection, ApiError? Error)> DialWithRetryAsync<T>(
        RuntimeRecord runtime, string? socketPath, Func<Uri, CancellationToken, Task<(T?, ApiError?)>> dial, CancellationToken cancellationToken)
        where T : class
    {
        for (var attempt = 0; ; attempt++)
        {
            var (target, resolveError, kept) = await addresses.ResolveAsync(runtime, socketPath, cancellationToken);
            if (target is null)
            {
                return (null, resolveError);
            }

            var (connection, error) = await dial(target, cancellationToken);
            if (connection is not null || !kept || attempt > 0)
            {
                return (connection, error);
            }

            addresses.Forget(runtime);
        }
    }

    private async Task<(UpstreamConnection?, ApiError?)> DialAsync(HttpContext context, Uri target, CancellationToken cancellationToken)
        => await UpstreamDialer.DialAsync(target, SubProtocolOf(context), options.Value.Limits.HandshakeTimeout, trust, cancellationToken);

    private async Task<(LoopDial?, ApiError?)> DialOnLoopAsync(HttpContext context, Uri target, IoLoop loop, CancellationToken cancellationToken)
    {
        var endPoint = await EndPointOf(target, cancellationToken);
        if (endPoint is null)
        {
            return (null, ApiError.RuntimeUnreachable);
        }

        var dial = LoopDial.Start(loop, endPoint, target, SubProtocolOf(context));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Value.Limits.HandshakeTimeout);
        ApiError? error;
        using (deadline.Token.UnsafeRegister(static state => ((LoopDial)state!).Cancel(), dial))
        {
            error = await dial.Outcome;
        }

        return error is null ? (dial, null) : (null, error);
    }

    /// <summary>The runtime's address is an IP literal by now (<see cref="RuntimeAddresses"/> resolves names), except <c>localhost</c>.</summary>
    private static async Task<IPEndPoint?> EndPointOf(Uri target, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(target.DnsSafeHost, out var address))
        {
            return new IPEndPoint(address, target.Port);
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(target.DnsSafeHost, cancellationToken);
            var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
            return chosen is null ? null : new IPEndPoint(chosen, target.Port);
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private static string? SubProtocolOf(HttpContext context)
    {
        var subProtocol = context.Request.Headers.SecWebSocketProtocol.ToString();
        return subProtocol.Length == 0 ? null : subProtocol;
    }

    /// <summary>
    /// A lease's live attaches for its <c>maxAttaches</c> (docs/quotas.md): the fleet's count from the state store, or
    /// this node's own when that is higher (its newest attaches may not be published yet) or the store does not answer.
    /// </summary>
    private async Task<long> LiveAttachesAsync(Guid connectionId, CancellationToken cancellationToken)
    {
        long here = registry.Live.Count(a => a.ConnectionId == connectionId);
        try
        {
            return Math.Max(here, (await connections.GetAttachCountsAsync(connectionId, cancellationToken)).Live);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return here;
        }
    }

    /// <summary>Gives a lease's command bucket back when its attach ends.</summary>
    private sealed class RateRelease(CommandRates rates, Guid connectionId) : IDisposable
    {
        public void Dispose() => rates.Release(connectionId);
    }

    private Task RefuseAsync(HttpContext context, ApiError refusal) => refusals.RefuseAsync(context, RefusedRequest.Attach, refusal);

    private async Task SpliceAsync(HttpContext context, string key, AdmittedLease lease, UpstreamConnection upstream, long started)
    {
        SetUpgradeHeaders(context, key, upstream.SubProtocol);

        Stream upgraded;
        try
        {
            upgraded = await context.Features.Get<IHttpUpgradeFeature>()!.UpgradeAsync();
        }
        catch
        {
            // The client left before its 101: the runtime connection goes with it.
            upstream.Dispose();
            throw;
        }

        // After the 101, Kestrel's connection pipes carry the WebSocket bytes; splicing them directly skips the
        // upgraded stream's copy. The stream is the fallback for a server that does not expose its transport.
        var transport = options.Value.Splice.ClientTransport == ClientTransport.Pipes
            ? context.Features.Get<IConnectionTransportFeature>()?.Transport
            : null;
        var client = transport ?? new DuplexPipe(PipeReader.Create(upgraded), PipeWriter.Create(upgraded));

        var attachId = registry.NextId();
        var (observer, opened) = recorder.Open(context, attachId, lease.ConnectionId, lease.Runtime.Id, lease.ScopeTarget, lease.Artifacts);
        var rate = lease.Quotas?.CommandsPerSecond is { } commandsPerSecond ? rates.Take(lease.ConnectionId, commandsPerSecond) : null;
        using var releaseRate = rate is null ? null : new RateRelease(rates, lease.ConnectionId);
        using var splice = new AttachSplice(client, upstream.CreateLink(), upstream.Leftover, options.Value.ToSpliceSettings(), clock, observer, lease.Policy, rate);
        splice.LimitTo(lease.Quotas?.MaxAttachSeconds, lease.Quotas?.MaxBytes);
        var live = new LiveAttach(attachId, lease.ConnectionId, lease.Runtime.Id, splice, time.GetUtcNow());
        var counted = GoLive(live, started);
        AttachSummary summary;
        try
        {
            summary = await splice.RunAsync();
        }
        catch (Exception exception)
        {
            RelayLog.AttachFault(logger, live.Id, exception);
            registry.Remove(live);
            await counted;
            await CountAsync(ct => connections.AttachClosedAsync(lease.ConnectionId, ct));
            return;
        }

        await EndAsync(live, summary, opened, observer, counted, transport is null ? "the upgraded stream" : "Kestrel's transport pipes");
    }

    /// <summary>
    /// The relay transport's attach (issue 9): answer 101, take the socket from Kestrel with whatever the client sent
    /// behind its upgrade, and start the splice on the connection's loop. Returns at once, so Kestrel ends its side of the
    /// connection and frees its objects; the attach ends in <see cref="EndLoopAttachAsync"/>. True once handed over
    /// (its place is given back when it ends).
    /// </summary>
    private async Task<bool> SpliceOnLoopAsync(HttpContext context, string key, AdmittedLease lease, LoopDial dial, IConnectionDetachFeature detach, long started)
    {
        DetachedSocket client;
        try
        {
            // The lease may have been deleted while the runtime was dialled: check again before the 101.
            if (revocations.IsRevoked(lease.ConnectionId))
            {
                dial.Abandon();
                await RefuseAsync(context, ApiError.LeaseRevoked);
                return false;
            }

            if (detach.ClientLeft())
            {
                dial.Abandon(); // the runtime connection goes with the client
                return false;
            }

            SetUpgradeHeaders(context, key, dial.SubProtocol);
            await context.Features.Get<IHttpUpgradeFeature>()!.UpgradeAsync();
            client = await detach.DetachAsync();
        }
        catch (Exception exception) when (exception is IOException or ConnectionAbortedException or OperationCanceledException)
        {
            // The client left before its 101 was sent: the runtime connection goes with it.
            dial.Abandon();
            return false;
        }

        dial.HandOver();
        var attachId = registry.NextId();
        var (observer, opened) = recorder.Open(context, attachId, lease.ConnectionId, lease.Runtime.Id, lease.ScopeTarget, lease.Artifacts);
        var end = new LoopAttach(this, opened, observer);
        var splice = new LoopSplice(
            client.Loop, client.Fd, client.Token, client.Leftover, client.Released,
            dial.Fd, dial.Token, dial.Leftover, options.Value.ToSpliceSettings(), observer, end);
        splice.LimitTo(lease.Quotas?.MaxAttachSeconds, lease.Quotas?.MaxBytes);
        if (lease.Quotas?.CommandsPerSecond is { } commandsPerSecond)
        {
            end.Rate = new RateRelease(rates, lease.ConnectionId);
            splice.Guard(lease.Policy, rates.Take(lease.ConnectionId, commandsPerSecond));
        }
        else
        {
            splice.Guard(lease.Policy, rate: null);
        }

        var live = new LiveAttach(attachId, lease.ConnectionId, lease.Runtime.Id, splice, time.GetUtcNow());
        end.Live = live;
        end.Counted = GoLive(live, started);
        splice.Start();
        return true;
    }

    /// <summary>
    /// An attach goes live, on either transport: it joins the registry, is counted and logged, and its connection's
    /// live count goes up beside it (a slow or absent Redis must neither delay nor fail a live attach). Returns that count.
    /// </summary>
    private Task GoLive(LiveAttach live, long started)
    {
        registry.Add(live);

        // A terminate that came between the check before the 101 and the registry found no attach to close: close it
        // now. A plain delete in that window closes it too; refusing is the safe side of the race.
        if (revocations.IsRevoked(live.ConnectionId))
        {
            live.Splice.Abort(AttachEndReason.LeaseTerminated);
        }

        metrics.AttachAttempted("opened");
        metrics.AttachSetUp(time.GetElapsedTime(started));
        var counted = CountAsync(ct => connections.AttachOpenedAsync(live.ConnectionId, ct));
        RelayLog.AttachOpened(logger, live.Id, live.ConnectionId, live.RuntimeId);
        return counted;
    }

    /// <summary>
    /// An attach has ended, on either transport: its log line and closed record, its counts moved into the retired
    /// totals (which takes it out of the registry), and its connection's live count down once the up has landed.
    /// </summary>
    private async Task EndAsync(LiveAttach live, AttachSummary summary, OpenedAttach? opened, AttachObserver? observer, Task counted, string transport)
    {
        try
        {
            RelayLog.AttachClosed(logger, live.Id, summary.Reason, summary.Detail, summary.ClientCloseCode, summary.RuntimeCloseCode,
                summary.SentToClient.Code, summary.SentToRuntime.Code, summary.FromClient.Bytes, summary.FromRuntime.Bytes, transport);
            recorder.Close(opened, observer, summary);
        }
        catch (Exception exception)
        {
            RelayLog.AttachFault(logger, live.Id, exception);
        }
        finally
        {
            metrics.AttachEnded(live, summary);
            await counted;
            await CountAsync(ct => connections.AttachClosedAsync(live.ConnectionId, ct));
        }
    }

    private Task EndLoopAttachAsync(LoopAttach attach, AttachSummary summary, Exception? fault)
    {
        var live = attach.Live!;
        if (fault is not null)
        {
            RelayLog.AttachFault(logger, live.Id, fault);
        }

        // The handler returned at the 101 (its place was kept): the place goes back now that the splice has ended.
        registry.ReleasePlace();
        attach.Rate?.Dispose();
        return EndAsync(live, summary, attach.Opened, attach.Observer, attach.Counted ?? Task.CompletedTask, "the relay's I/O loop");
    }

    private static void SetUpgradeHeaders(HttpContext context, string key, string? subProtocol)
    {
        var headers = context.Response.Headers;
        headers.Upgrade = "websocket";
        headers.Connection = "Upgrade";
        headers.SecWebSocketAccept = WebSocketAccept.Compute(key);
        if (subProtocol is not null)
        {
            headers.SecWebSocketProtocol = subProtocol;
        }
    }

    /// <summary>What a loop attach needs at its end, which comes on the thread pool after the handler has long returned.</summary>
    private sealed class LoopAttach(AttachEndpoint endpoint, OpenedAttach? opened, AttachObserver? observer) : ILoopSpliceEnd
    {
        public OpenedAttach? Opened => opened;

        public AttachObserver? Observer => observer;

        public LiveAttach? Live { get; set; }

        public Task? Counted { get; set; }

        /// <summary>The lease's command bucket on this node, given back when the attach ends (docs/quotas.md).</summary>
        public IDisposable? Rate { get; set; }

        public void Ended(LoopSplice splice, AttachSummary summary, Exception? fault) => _ = endpoint.EndLoopAttachAsync(this, summary, fault);
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
