using System.Net.WebSockets;
using Bctrl.Relay.Attach;
using Bctrl.Relay.Control;
using Bctrl.Relay.Handshake;
using Bctrl.Relay.Metrics;
using Bctrl.Relay.State;
using Microsoft.AspNetCore.Http.Features;

namespace Bctrl.Relay.LiveView;

/// <summary>
/// The live view's two paths (docs/live-view.md): <c>GET /live/{token}</c> answers the viewer page, and
/// <c>GET /live/{token}/socket</c> upgrades to the WebSocket that carries frames to it and input from it. Both admit
/// the lease through the same gate as attaches (signature, expiry, revocation, record) and take only live leases.
/// </summary>
internal sealed class LiveViewEndpoint(
    LeaseGate gate,
    LiveSessions sessions,
    IRevocationView revocations,
    Refusals refusals,
    LiveViewMetrics metrics)
{
    /// <summary>Pings a viewer that says nothing, so a page that vanished without a close is found.</summary>
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(20);

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/live/{token}", (HttpContext context, string token, LiveViewEndpoint endpoint) => endpoint.PageAsync(context, token));
        app.MapGet("/live/{token}/socket", (HttpContext context, string token, LiveViewEndpoint endpoint) => endpoint.SocketAsync(context, token));
    }

    private async Task PageAsync(HttpContext context, string token)
    {
        var (_, refusal) = await gate.AdmitAsync(token, context.RequestAborted, live: true);
        if (refusal is not null)
        {
            await refusals.RefuseAsync(context, RefusedRequest.Attach, refusal);
            return;
        }

        var headers = context.Response.Headers;
        headers.CacheControl = "no-store";
        // The page's own URL holds the token: it must not leave in a Referer, and the page loads nothing from elsewhere.
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = LivePage.ContentSecurityPolicy;
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.Body.WriteAsync(LivePage.Html, context.RequestAborted);
    }

    private async Task SocketAsync(HttpContext context, string token)
    {
        var (lease, refusal) = await gate.AdmitAsync(token, context.RequestAborted, live: true);
        var key = string.Empty;
        refusal ??= ClientHandshake.Validate(context, out key);
        if (refusal is not null)
        {
            await refusals.RefuseAsync(context, RefusedRequest.Attach, refusal);
            return;
        }

        var headers = context.Response.Headers;
        headers.Upgrade = "websocket";
        headers.Connection = "Upgrade";
        headers.SecWebSocketAccept = WebSocketAccept.Compute(key);
        var stream = await context.Features.Get<IHttpUpgradeFeature>()!.UpgradeAsync();
        var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = KeepAlive });
        var viewer = new LiveViewer(socket, lease.ConnectionId, lease.Protocol == Leases.LeaseProtocol.LiveInteractive, metrics);
        if (sessions.Join(lease, viewer) is not { } session)
        {
            viewer.Close(WebSocketCloseStatus.EndpointUnavailable, "relay draining");
            await viewer.RunAsync(static (_, _) => ValueTask.CompletedTask);
            return;
        }

        try
        {
            // A terminate between the gate and the join found no viewer to close: close it now, as attaches do.
            if (revocations.IsRevoked(lease.ConnectionId))
            {
                viewer.Close((WebSocketCloseStatus)Splice.CloseCodes.LeaseTerminated, "lease terminated");
            }

            await viewer.RunAsync((from, message) => OnInput(session, from, message));
        }
        finally
        {
            sessions.Leave(session, viewer);
        }
    }

    /// <summary>Input counts only on an interactive lease, and only once it has passed every check of <see cref="LiveInput"/>.</summary>
    private ValueTask OnInput(LiveSession session, LiveViewer viewer, ReadOnlyMemory<byte> message)
    {
        if (!viewer.Interactive)
        {
            metrics.InputNotInteractive();
            return ValueTask.CompletedTask;
        }

        if (LiveInput.Parse(message.Span) is not { } input)
        {
            metrics.InputInvalid();
            return ValueTask.CompletedTask;
        }

        return session.DispatchAsync(input);
    }
}
