using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Bctrl.Relay.Attach;
using Bctrl.Relay.Control;
using Bctrl.Relay.Hosting;

namespace Bctrl.Relay.Discovery;

/// <summary>
/// The runtime's discovery documents under a lease (design §2): <c>/json/version</c>, <c>/json/list</c>, <c>/json</c>
/// and <c>/json/protocol</c>, with every WebSocket URL rewritten to go through the relay under the same lease, so that
/// <c>connectOverCDP("http://relay/cdp/&lt;token&gt;")</c> works. The runtime's own address never reaches the client.
/// </summary>
internal sealed partial class DiscoveryEndpoint(LeaseGate gate, HttpClient http, PublicEndpoint endpoint, ILogger<DiscoveryEndpoint> logger)
{
    private static readonly string[] Documents = ["json/version", "json/list", "json", "json/protocol"];

    public static void Map(IEndpointRouteBuilder app)
    {
        foreach (var document in Documents)
        {
            // Routing matches with or without a trailing slash: Playwright asks for "json/version/", Puppeteer without.
            app.MapGet($"/cdp/{{token}}/{document}", (HttpContext context, string token, DiscoveryEndpoint discovery)
                => discovery.HandleAsync(context, token, document));
        }
    }

    public async Task HandleAsync(HttpContext context, string token, string document)
    {
        var cancellationToken = context.RequestAborted;
        var (lease, refusal) = await gate.AdmitAsync(token, cancellationToken);
        if (refusal is not null)
        {
            await refusal.WriteAsync(context);
            return;
        }

        try
        {
            var runtime = lease.Runtime with { CdpUrl = await RuntimeAddresses.ResolveHostAsync(lease.Runtime.CdpUrl, cancellationToken) };
            using var response = await http.GetAsync(new Uri(RuntimeAddresses.HttpBase(runtime), document), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                await new ApiError(502, "runtime_unreachable", $"The runtime answered {document} with status {(int)response.StatusCode}.").WriteAsync(context);
                return;
            }

            context.Response.ContentType = "application/json; charset=UTF-8";
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            if (document == "json/protocol")
            {
                // No URL in the protocol description: it passes through untouched.
                await body.CopyToAsync(context.Response.Body, cancellationToken);
                return;
            }

            var node = await JsonNode.ParseAsync(body, cancellationToken: cancellationToken);
            Rewrite(node, endpoint.ConnectionUrl(token));
            await context.Response.WriteAsync(node?.ToJsonString() ?? "null", cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or JsonException or IOException or System.Net.Sockets.SocketException or TaskCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            RelayLog.DiscoveryFailed(logger, "runtime_unreachable");
            if (!context.Response.HasStarted)
            {
                await UpstreamDialer.Unreachable.WriteAsync(context);
            }
        }
    }

    /// <summary>
    /// Rewrites <c>webSocketDebuggerUrl</c> (<c>ws://runtime:9222/devtools/page/ID</c> becomes
    /// <c>ws://relay/cdp/TOKEN/devtools/page/ID</c>) and the <c>ws=</c> part of <c>devtoolsFrontendUrl</c>, wherever they
    /// appear in the document.
    /// </summary>
    internal static void Rewrite(JsonNode? node, string connectionUrl)
    {
        switch (node)
        {
            case JsonArray array:
                foreach (var item in array)
                {
                    Rewrite(item, connectionUrl);
                }

                break;
            case JsonObject obj:
                foreach (var (name, value) in obj.ToArray())
                {
                    if (value is JsonValue text && text.TryGetValue<string>(out var url))
                    {
                        if (name == "webSocketDebuggerUrl" && Uri.TryCreate(url, UriKind.Absolute, out var socket))
                        {
                            obj[name] = connectionUrl + socket.AbsolutePath;
                        }
                        else if (name == "devtoolsFrontendUrl")
                        {
                            var relay = new Uri(connectionUrl);
                            obj[name] = FrontendSocket().Replace(url, $"{relay.Scheme}={relay.Authority}{relay.AbsolutePath}/devtools/");
                        }
                    }
                    else
                    {
                        Rewrite(value, connectionUrl);
                    }
                }

                break;
        }
    }

    [GeneratedRegex("wss?=[^/&]+/devtools/")]
    private static partial Regex FrontendSocket();
}
