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
            return ApiError.WebSocketRequiresHttp11;
        }

        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        var isWebSocket = request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase);
        if (!HttpMethods.IsGet(request.Method) || !isWebSocket || upgrade is null || !upgrade.IsUpgradableRequest
            || !request.Headers.Connection.ToString().Contains("upgrade", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.Headers.Upgrade = "websocket";
            context.Response.Headers.Connection = "Upgrade";
            return ApiError.WebSocketRequired;
        }

        if (request.Headers.SecWebSocketVersion.ToString() != "13")
        {
            context.Response.Headers.SecWebSocketVersion = "13";
            return ApiError.UnsupportedWebSocketVersion;
        }

        var presented = request.Headers.SecWebSocketKey.ToString();
        if (!WebSocketAccept.IsValidKey(presented))
        {
            return ApiError.InvalidWebSocketKey;
        }

        key = presented;
        return null;
    }
}
