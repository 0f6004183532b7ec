using Bctrl.Relay.Options;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Hosting;

/// <summary>
/// Builds the URLs handed to clients from <c>Relay:PublicBaseUrl</c>, or from the first listen address once Kestrel
/// has bound it (so port 0 works) — never from a request's <c>Host</c>.
/// </summary>
internal sealed class PublicEndpoint(IOptions<RelayOptions> options, IServer server)
{
    private string? _base;

    /// <summary>Like <c>ws://relay.example:8080</c>, without a trailing slash.</summary>
    public string WebSocketBase => _base ??= Resolve();

    public string ConnectionUrl(string token) => $"{WebSocketBase}/cdp/{token}";

    /// <summary>
    /// The URL a new connection hands out: the browser socket, or for a lease scoped to one target (docs/scope.md) that
    /// target's page socket, the only socket it may attach to.
    /// </summary>
    public string ConnectionUrl(string token, string? scopeTarget) =>
        scopeTarget is null ? ConnectionUrl(token) : $"{WebSocketBase}/cdp/{token}/devtools/page/{scopeTarget}";

    /// <summary>The live view's page (docs/live-view.md): the public base with <c>ws</c> read as <c>http</c>, <c>wss</c> as <c>https</c>.</summary>
    public string LiveViewUrl(string token) => $"{(WebSocketBase.StartsWith("wss:", StringComparison.Ordinal) ? "https" : "http")}{WebSocketBase[WebSocketBase.IndexOf(':', StringComparison.Ordinal)..]}/live/{token}";

    private string Resolve()
    {
        if (options.Value.PublicBaseUrl is { } configured)
        {
            return configured.TrimEnd('/');
        }

        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses;
        var first = addresses?.FirstOrDefault(a => !IsManagement(a)) ?? addresses?.FirstOrDefault()
            ?? throw new InvalidOperationException("The relay has no listen address yet.");
        var uri = new Uri(ListenerRoles.Normalize(first));
        var scheme = uri.Scheme == "https" ? "wss" : "ws";
        return $"{scheme}://{uri.Authority}";
    }

    private bool IsManagement(string address) => ListenerRoles.ManagementPorts(options.Value).Contains(new Uri(ListenerRoles.Normalize(address)).Port);
}
