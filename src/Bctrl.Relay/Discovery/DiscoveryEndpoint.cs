using Bctrl.Relay.Attach;
using Bctrl.Relay.Control;
using Bctrl.Relay.Hosting;
using Bctrl.Relay.Hosting.Transport;
using Bctrl.Relay.Options;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Discovery;

/// <summary>
/// The runtime's discovery documents under a lease (docs/design.md §2): <c>/json/version</c>, <c>/json/list</c>, <c>/json</c>
/// and <c>/json/protocol</c>, with every WebSocket URL rewritten to go through the relay under the same lease, so that
/// <c>connectOverCDP("http://relay/cdp/&lt;token&gt;")</c> works. The runtime's own address never reaches the client.
/// </summary>
/// <remarks>
/// The runtime's answer is untrusted input (issue 8): no redirect is followed, a status other than 2xx is refused, and
/// no more than <c>Relay:Limits:MaxDiscoveryBytes</c> is read; documents stream through, so a request costs a few pooled
/// buffers whatever the document's size. A refusal is 502 <c>bad_upstream_discovery</c> while nothing has been sent;
/// once part of the answer is on its way (the rewrite holds back its first <see cref="HeldBackBytes"/>,
/// <c>/json/protocol</c> passes through at once), the response is aborted instead, so the client never takes a cut
/// document for a whole one. The whole exchange with the runtime, headers and body, has one deadline,
/// <c>Relay:Limits:HandshakeTimeout</c>; an answer not complete by then is refused the same way.
/// </remarks>
internal sealed partial class DiscoveryEndpoint(
    LeaseGate gate, Refusals refusals, HttpClient http, PublicEndpoint endpoint, IOptions<RelayOptions> options, ILogger<DiscoveryEndpoint> logger)
{
    /// <summary>
    /// Rewritten output held back before the first send: Chromium's documents are far smaller, so for them any failure
    /// is a clean 502; a larger document streams on in pieces of about this size.
    /// </summary>
    public const int HeldBackBytes = 64 * 1024;

    private const string Protocol = "json/protocol";

    private static readonly string[] Documents = ["json/version", "json/list", "json", Protocol];

    /// <summary>What comes back from the runtime, and how it goes on to the client.</summary>
    private enum Answer
    {
        /// <summary>JSON whose WebSocket URLs are rewritten through the relay.</summary>
        Rewritten,

        /// <summary>Copied as it is (<c>/json/protocol</c>).</summary>
        Copied,

        /// <summary>A short text answer of a target command; the runtime's 404 is the relay's <c>target_not_found</c>.</summary>
        Command,
    }

    private readonly long _maxBytes = options.Value.Limits.MaxDiscoveryBytes;
    private readonly TimeSpan _deadline = options.Value.Limits.HandshakeTimeout;

    public static void Map(IEndpointRouteBuilder app)
    {
        foreach (var document in Documents)
        {
            // Routing matches with or without a trailing slash: Playwright asks for "json/version/", Puppeteer without.
            app.MapGet($"/cdp/{{token}}/{document}", (HttpContext context, string token, DiscoveryEndpoint discovery)
                => discovery.HandleAsync(context, token, document, document, document == Protocol ? Answer.Copied : Answer.Rewritten, HttpMethod.Get));
        }

        // Issue 10: the target commands of Chromium's HTTP endpoint, on the lease's runtime only. /json/new opens a tab
        // (PUT, as Chromium has required since version 111; the query is the address to open) and answers its target,
        // rewritten like /json/list; activate and close answer a line of text.
        app.MapPut("/cdp/{token}/json/new", (HttpContext context, string token, DiscoveryEndpoint discovery)
            => discovery.HandleAsync(context, token, "json/new", "json/new" + context.Request.QueryString.Value, Answer.Rewritten, HttpMethod.Put));
        app.MapGet("/cdp/{token}/json/new", (HttpContext context, string token, DiscoveryEndpoint discovery)
            => discovery.RefuseCommandAsync(context, token, ApiError.MethodNotAllowed));
        foreach (var command in (string[])["json/activate", "json/close"])
        {
            app.MapMethods($"/cdp/{{token}}/{command}/{{targetId}}", ["GET", "PUT"], (HttpContext context, string token, string targetId, DiscoveryEndpoint discovery)
                => Identifiers.IsValidTargetId(targetId)
                    ? discovery.HandleAsync(context, token, command, $"{command}/{targetId}", Answer.Command, HttpMethod.Get, targetId)
                    : discovery.RefuseCommandAsync(context, token, ApiError.InvalidTarget));
        }
    }

    /// <summary>Refuses a malformed target command, after the lease (an unknown lease learns nothing about the route).</summary>
    private async Task RefuseCommandAsync(HttpContext context, string token, ApiError refusal)
    {
        var (_, leaseRefusal) = await gate.AdmitAsync(token, context.RequestAborted);
        await refusals.RefuseAsync(context, RefusedRequest.Discovery, leaseRefusal ?? refusal);
    }

    /// <param name="document">What the request is called in logs and errors: never its query, which is the client's.</param>
    /// <param name="path">The runtime's path, relative to its HTTP base, with the query to pass on.</param>
    /// <param name="targetId">The target a command (<c>/json/activate|close/{id}</c>) names.</param>
    private async Task HandleAsync(HttpContext context, string token, string document, string path, Answer answer, HttpMethod method, string? targetId = null)
    {
        var (lease, refusal) = await gate.AdmitAsync(token, context.RequestAborted);
        if (refusal is null && lease.ScopeTarget is not null && !ScopedMayAsk(document, targetId, lease))
        {
            refusal = ApiError.ScopeForbidden;
        }

        if (refusal is null && lease.Policy is { } policy && !PolicyAllows(document, policy))
        {
            refusal = ApiError.PolicyDenied;
        }

        if (refusal is not null)
        {
            await refusals.RefuseAsync(context, RefusedRequest.Discovery, refusal);
            return;
        }

        // One deadline for the whole exchange, headers and body (the client's own timeout covers only the headers when
        // the body is read as a stream): a runtime that trickles its document must not hold the request, and its
        // connection, until the client leaves. The attach path's /json/version lookup has the same bound.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(_deadline);
        var cancellationToken = deadline.Token;
        var answered = false;
        try
        {
            var runtime = lease.Runtime with { CdpUrl = await RuntimeAddresses.ResolveHostAsync(lease.Runtime.CdpUrl, cancellationToken) };
            using var request = new HttpRequestMessage(method, new Uri(RuntimeAddresses.HttpBase(runtime), path));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            answered = true;
            if (answer == Answer.Command && response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                await refusals.RefuseAsync(context, RefusedRequest.Discovery, ApiError.TargetNotFound);
                return;
            }

            var problem = Check(response);
            if (problem is null)
            {
                context.Response.ContentType = answer == Answer.Command ? "text/plain; charset=UTF-8" : "application/json; charset=UTF-8";
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                problem = answer == Answer.Rewritten
                    ? await RewriteAsync(context, body, endpoint.ConnectionUrl(token), lease.ScopeTarget, cancellationToken)
                    : await PassThroughAsync(context, body, cancellationToken);
            }

            if (problem is not null)
            {
                await RefuseAsync(context, document, problem);
            }
        }
        catch (Exception exception) when (answered && exception is OperationCanceledException or IOException
            && deadline.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
        {
            // The runtime answered, then did not finish within the deadline: its answer is at fault, not the route to it.
            await RefuseAsync(context, document, "not complete within Relay:Limits:HandshakeTimeout");
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or System.Net.Sockets.SocketException or OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            // No descriptor for the request is the node at its limit, not the runtime at fault (issue 8, finding 1).
            var failure = DiscoveryHttp.FailureOf(exception);
            RelayLog.DiscoveryFailed(logger, failure.Code);
            if (!context.Response.HasStarted)
            {
                await failure.WriteAsync(context);
            }
            else
            {
                context.Abort();
            }
        }
    }

    /// <summary>
    /// What a lease scoped to one target may ask for (docs/scope.md): the list (filtered to its target), the protocol,
    /// and commands on its own target. Not <c>/json/version</c>, whose point is the browser socket, nor <c>/json/new</c>.
    /// </summary>
    private static bool ScopedMayAsk(string document, string? targetId, AdmittedLease lease) => document switch
    {
        "json/list" or "json" or Protocol => true,
        "json/activate" or "json/close" => targetId is not null && lease.ReachesTarget(targetId),
        _ => false,
    };

    /// <summary>
    /// The target commands of the HTTP endpoint are judged as the CDP commands they stand for (docs/policy.md): a lease
    /// that may not send <c>Target.closeTarget</c> on its socket may not close a tab through <c>/json/close</c> either.
    /// </summary>
    private static bool PolicyAllows(string document, Policy.MethodPolicy policy) => document switch
    {
        "json/new" => policy.Allows("Target.createTarget"u8),
        "json/activate" => policy.Allows("Target.activateTarget"u8),
        "json/close" => policy.Allows("Target.closeTarget"u8),
        _ => true,
    };

    /// <summary>What is wrong with the answer's status line and headers, or null.</summary>
    private string? Check(HttpResponseMessage response)
    {
        // Redirects are not followed (DiscoveryHttp): a 3xx lands here like any status that is not 2xx. Its Location is
        // never read, so the address it names reaches neither the client nor a log line.
        if (!response.IsSuccessStatusCode)
        {
            return $"status {(int)response.StatusCode}";
        }

        return response.Content.Headers.ContentLength > _maxBytes ? "Content-Length over Relay:Limits:MaxDiscoveryBytes" : null;
    }

    private async Task RefuseAsync(HttpContext context, string document, string problem)
    {
        if (context.Response.HasStarted)
        {
            RelayLog.DiscoveryRefused(logger, document, problem, "aborted the response");
            context.Abort();
            return;
        }

        RelayLog.DiscoveryRefused(logger, document, problem, "answered 502 bad_upstream_discovery");
        await ApiError.BadUpstreamDiscovery.With($"The runtime's /{document} was refused: {problem}.").WriteAsync(context);
    }
}
