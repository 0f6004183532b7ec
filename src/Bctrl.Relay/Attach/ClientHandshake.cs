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
