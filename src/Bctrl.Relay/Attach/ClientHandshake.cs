using Bctrl.Relay.Control;
using Bctrl.Relay.Handshake;
using Microsoft.AspNetCore.Http.Features;

namespace Bctrl.Relay.Attach;

/// <summary>
/// The checks RFC 6455 §4.2.1 asks of a server before it answers an opening handshake; all of them run before any
/// upstream connection is opened.
/// </summary>
internal static class ClientHandshake
{
    public static ApiError? Validate(HttpContext context, out string key)
    {
        key = string.Empty;
        var request = context.Request;

        // §4.1: "the HTTP version MUST be at least 1.1". Kestrel offers the upgrade feature on an HTTP/1.0 request too,
        // so it is refused here, before the upgrade checks and before any 101.
        if (HttpProtocol.IsHttp10(request.Protocol))
        {
            return new ApiError(400, "websocket_requires_http11", "A WebSocket upgrade needs HTTP/1.1 or later (RFC 6455 §4.1).");
        }

        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        var isWebSocket = request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase);
        if (!HttpMethods.IsGet(request.Method) || !isWebSocket || upgrade is null || !upgrade.IsUpgradableRequest
            || !request.Headers.Connection.ToString().Contains("upgrade", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.Headers.Upgrade = "websocket";
            context.Response.Headers.Connection = "Upgrade";
            return new ApiError(426, "websocket_required", "This endpoint takes an HTTP/1.1 WebSocket upgrade (GET with Upgrade: websocket and Connection: Upgrade).");
        }

        if (request.Headers.SecWebSocketVersion.ToString() != "13")
        {
            context.Response.Headers.SecWebSocketVersion = "13";
            return new ApiError(426, "unsupported_websocket_version", "Only Sec-WebSocket-Version 13 is supported.");
        }

        var presented = request.Headers.SecWebSocketKey.ToString();
        if (!WebSocketAccept.IsValidKey(presented))
        {
            return new ApiError(400, "invalid_websocket_key", "Sec-WebSocket-Key must be base64 of 16 bytes.");
        }

        key = presented;
        return null;
    }
}
