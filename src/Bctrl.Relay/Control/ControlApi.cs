using System.Text.Json;
using Bctrl.Relay.Artifacts;
using Bctrl.Relay.Hosting;
using Bctrl.Relay.Leases;
using Bctrl.Relay.Policy;
using Bctrl.Relay.Observation;
using Bctrl.Relay.Options;
using Bctrl.Relay.State;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Bctrl.Relay.Control;

/// <summary>The control API of docs/design.md §2: runtimes and connections, behind the bearer control key.</summary>
internal static class ControlApi
{
    public static void MapControlApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").AddEndpointFilter(async (context, next) =>
        {
            var auth = context.HttpContext.RequestServices.GetRequiredService<ControlAuth>();
            return auth.IsAuthorized(context.HttpContext.Request) ? await next(context) : ApiError.Unauthorized.ToResult();
        }).AddEndpointFilter(WithinStateBoundAsync)
            .Refuses(ApiError.Unauthorized, ApiError.StateUnavailable, ApiError.RelayFault);

        // What each call takes, answers and refuses, for the OpenAPI document (docs/api.md). The handlers read bodies and
        // query strings by hand, so that a bad one is a catalogue error rather than the framework's empty 400; and
        // bodies are declared with Takes, not Accepts, whose metadata would also route by Content-Type (a POST with no
        // body, or a PUT without the header, would miss the endpoint).
        v1.MapPut("/runtimes/{runtimeId}", PutRuntimeAsync)
            .WithName("putRuntime").WithSummary("Registers or replaces a runtime (201 created, 200 replaced).")
            .Takes<PutRuntimeRequest>()
            .Produces<RuntimeResponse>(StatusCodes.Status200OK)
            .Produces<RuntimeResponse>(StatusCodes.Status201Created)
            .Refuses(ApiError.InvalidRuntimeId, ApiError.InvalidJson, ApiError.InvalidCdpUrl);
        v1.MapGet("/runtimes", ListRuntimesAsync)
            .WithName("listRuntimes").WithSummary("Lists runtimes by id.")
            .Produces<ListResponse<RuntimeResponse>>()
            .Paged();
        v1.MapGet("/runtimes/{runtimeId}", GetRuntimeAsync)
            .WithName("getRuntime").WithSummary("Gets a runtime.")
            .Produces<RuntimeResponse>()
            .Refuses(ApiError.RuntimeNotFound);
        v1.MapDelete("/runtimes/{runtimeId}", DeleteRuntimeAsync)
            .WithName("deleteRuntime").WithSummary("Deletes a runtime and revokes its connections.")
            .Produces(StatusCodes.Status204NoContent)
            .Refuses(ApiError.RuntimeNotFound);
        v1.MapPost("/runtimes/{runtimeId}/connections", CreateConnectionAsync)
            .WithName("createConnection").WithSummary("Creates a connection (a lease); its endpoint URL is in this answer only.")
            .Takes<CreateConnectionRequest>(optional: true)
            .Produces<CreatedConnectionResponse>(StatusCodes.Status201Created)
            .Refuses(ApiError.InvalidJson, ApiError.UnsupportedProtocol, ApiError.InvalidTtl, ApiError.InvalidScope, ApiError.InvalidPolicy, ApiError.InvalidQuotas, ApiError.InvalidRecord, ApiError.RuntimeNotFound);
        v1.MapGet("/runtimes/{runtimeId}/connections", ListConnectionsAsync)
            .WithName("listConnections").WithSummary("Lists a runtime's connections, newest first.")
            .Produces<ListResponse<ConnectionResponse>>()
            .Paged()
            .Refuses(ApiError.RuntimeNotFound);
        v1.MapGet("/runtimes/{runtimeId}/connections/{connectionId}", GetConnectionAsync)
            .WithName("getConnection").WithSummary("Gets a connection: its state and attach counts, never its URL.")
            .Produces<ConnectionResponse>()
            .Refuses(ApiError.ConnectionNotFound);
        v1.MapDelete("/runtimes/{runtimeId}/connections/{connectionId}", DeleteConnectionAsync)
            .WithName("deleteConnection").WithSummary("Deletes (revokes) a connection; idempotent.")
            .Produces(StatusCodes.Status204NoContent)
            .Reads("terminate", ApiInputKind.Boolean, "true also closes the lease's live attaches (4001) on every node.")
            .Refuses(ApiError.InvalidQuery, ApiError.ConnectionNotFound);
        v1.MapObservation();
        v1.MapArtifacts();
    }

    /// <summary>
    /// Bounds every control call by <c>Relay:Revocations:MaxStaleness</c> and answers a state store that fails or does
    /// not answer in time with 503 <c>state_unavailable</c> and Retry-After, never a 500 (issue 8, finding 2).
    /// StackExchange.Redis does not cancel a command once it is sent, so the stores await each command with the token
    /// they are given; this filter hands them one that also fires at the deadline. A command cut off that way may still
    /// take effect later, which is why every call is safe to retry (a DELETE is idempotent).
    /// </summary>
    private static async ValueTask<object?> WithinStateBoundAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var bound = http.RequestServices.GetRequiredService<IOptions<RelayOptions>>().Value.Revocations.MaxStaleness;
        using var deadline = new CancellationTokenSource(bound, http.RequestServices.GetRequiredService<TimeProvider>());
        using var aborted = http.RequestAborted.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), deadline);
        for (var i = 0; i < context.Arguments.Count; i++)
        {
            if (context.Arguments[i] is CancellationToken)
            {
                context.Arguments[i] = deadline.Token;
            }
        }

        try
        {
            return await next(context);
        }
        catch (Exception exception) when (!http.RequestAborted.IsCancellationRequested && !http.Response.HasStarted
            && (exception is RedisException or TimeoutException || (exception is OperationCanceledException && deadline.IsCancellationRequested)))
        {
            return ApiError.StateUnavailable.ToResult();
        }
    }

    private static async Task<IResult> PutRuntimeAsync(
        string runtimeId, HttpContext context, IRuntimeStore runtimes, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Identifiers.IsValidRuntimeId(runtimeId))
        {
            return ApiError.InvalidRuntimeId.ToResult();
        }

        var (body, error) = await ReadJsonAsync(context, RelayJsonContext.Default.PutRuntimeRequest);
        if (error is not null)
        {
            return error.ToResult();
        }

        if (!Uri.TryCreate(body?.CdpUrl, UriKind.Absolute, out var cdpUrl) || cdpUrl.Scheme is not ("ws" or "wss" or "http" or "https")
            || string.IsNullOrEmpty(cdpUrl.Host) || !string.IsNullOrEmpty(cdpUrl.UserInfo))
        {
            return ApiError.InvalidCdpUrl.ToResult();
        }

        var existing = await runtimes.GetAsync(runtimeId, cancellationToken);
        var record = new RuntimeRecord(runtimeId, cdpUrl, existing?.CreatedAt ?? time.GetUtcNow());
        var created = await runtimes.PutAsync(record, cancellationToken);
        return Results.Json(ToResponse(record), RelayJsonContext.Default.RuntimeResponse, statusCode: created ? 201 : 200);
    }

    private static async Task<IResult> ListRuntimesAsync(HttpContext context, IRuntimeStore runtimes, CancellationToken cancellationToken)
    {
        if (Pagination.TryRead(context.Request, PageOrders.Runtimes, out var page) is { } invalid)
        {
            return invalid.ToResult();
        }

        var (items, next) = page.Take(await runtimes.ListAsync(cancellationToken));
        return Results.Json(new ListResponse<RuntimeResponse>([.. items.Select(ToResponse)], next), RelayJsonContext.Default.ListResponseRuntimeResponse);
    }

    private static async Task<IResult> GetRuntimeAsync(string runtimeId, IRuntimeStore runtimes, CancellationToken cancellationToken)
        => await runtimes.GetAsync(runtimeId, cancellationToken) is { } runtime
            ? Results.Json(ToResponse(runtime), RelayJsonContext.Default.RuntimeResponse)
            : ApiError.RuntimeNotFound.ToResult();

    /// <summary>
    /// Deleting a runtime revokes its connections too: the gate finds runtimes by id, so without this a runtime
    /// registered again under the same id would take the old leases. The leases are revoked before the runtime goes, so
    /// that a call cut off half way (503) is retried against a runtime that still exists; and once more after, for a
    /// lease created meanwhile.
    /// </summary>
    private static async Task<IResult> DeleteRuntimeAsync(
        string runtimeId,
        IRuntimeStore runtimes,
        IConnectionStore connections,
        IRevocationView revocations,
        IOptions<RelayOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (revocations.Age > options.Value.Revocations.MaxStaleness)
        {
            return ApiError.StateUnavailable.ToResult();
        }

        if (await runtimes.GetAsync(runtimeId, cancellationToken) is null)
        {
            return ApiError.RuntimeNotFound.ToResult();
        }

        var grace = RelayStateServices.RevocationGrace(options.Value);
        await RevokeLeasesAsync(runtimeId, connections, revocations, grace, time, cancellationToken);
        if (!await runtimes.DeleteAsync(runtimeId, cancellationToken))
        {
            return ApiError.RuntimeNotFound.ToResult();
        }

        await RevokeLeasesAsync(runtimeId, connections, revocations, grace, time, cancellationToken);
        return Results.NoContent();
    }

    /// <summary>Revokes every lease of the runtime whose token may still verify (expiry plus the revocation grace).</summary>
    private static async Task RevokeLeasesAsync(
        string runtimeId, IConnectionStore connections, IRevocationView revocations, TimeSpan grace, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var connection in await connections.ListAsync(runtimeId, cancellationToken))
        {
            if (connection.DeletedAt is null && connection.ExpiresAt > now - grace)
            {
                await connections.MarkDeletedAsync(connection.Id, now, cancellationToken);
                await revocations.RevokeAsync(connection.Id, connection.ExpiresAt, terminate: false, cancellationToken);
            }
        }
    }

    private static async Task<IResult> CreateConnectionAsync(
        string runtimeId,
        HttpContext context,
        IRuntimeStore runtimes,
        IConnectionStore connections,
        LeaseTokens tokens,
        PublicEndpoint endpoint,
        IOptions<RelayOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (body, error) = await ReadJsonAsync(context, RelayJsonContext.Default.CreateConnectionRequest, allowEmpty: true);
        if (error is not null)
        {
            return error.ToResult();
        }

        var protocol = body?.Protocol ?? "cdp";
        if (protocol is not ("cdp" or "live"))
        {
            return ApiError.UnsupportedProtocol.ToResult();
        }

        // docs/live-view.md: whether a live lease forwards input is its protocol value, inside the signed token.
        if (body?.Interactive is not null && protocol != "live")
        {
            return ApiError.InvalidInteractive.ToResult();
        }

        var leaseProtocol = protocol == "cdp" ? LeaseProtocol.Cdp
            : body?.Interactive == true ? LeaseProtocol.LiveInteractive : LeaseProtocol.Live;

        var limits = options.Value.Connections;
        var ttl = body?.TtlSeconds is { } seconds ? TimeSpan.FromSeconds(Math.Clamp(seconds, -1, int.MaxValue)) : limits.DefaultTtl;
        if (ttl < TimeSpan.FromSeconds(1) || ttl > limits.MaxTtl)
        {
            return ApiError.InvalidTtl.With($"ttlSeconds must be between 1 and {(long)limits.MaxTtl.TotalSeconds}.").ToResult();
        }

        // A scope, when given, names one target (docs/scope.md); "scope": null is no scope.
        var scope = body?.Scope;
        if (scope is not null && !Identifiers.IsValidTargetId(scope.Target))
        {
            return ApiError.InvalidScope.ToResult();
        }

        if (scope is not null && leaseProtocol != LeaseProtocol.Cdp)
        {
            // The live view follows the runtime's active tab; a scope is for CDP sockets (docs/scope.md).
            return ApiError.InvalidScope.With("A scope applies to \"cdp\" leases only.").ToResult();
        }

        // A policy (docs/policy.md) judges CDP commands; a live lease sends none of the client's.
        MethodPolicy? policy = null;
        if (body?.Policy is { } policyModel)
        {
            if (leaseProtocol != LeaseProtocol.Cdp)
            {
                return ApiError.InvalidPolicy.With("A policy applies to \"cdp\" leases only.").ToResult();
            }

            policy = MethodPolicy.Create(policyModel.Preset, policyModel.Allow, policyModel.Deny, out var policyError);
            if (policy is null)
            {
                return ApiError.InvalidPolicy.With(policyError!).ToResult();
            }
        }

        // Quotas (docs/quotas.md): on CDP leases; an attach may not outlast the longest lease.
        LeaseQuotas? quotas = null;
        if (body?.Quotas is { } quotasModel)
        {
            if (leaseProtocol != LeaseProtocol.Cdp)
            {
                return ApiError.InvalidQuotas.With("Quotas apply to \"cdp\" leases only.").ToResult();
            }

            quotas = LeaseQuotas.Create(
                quotasModel.CommandsPerSecond, quotasModel.MaxAttaches, quotasModel.MaxAttachSeconds, quotasModel.MaxBytes, limits.MaxTtl, out var quotasError);
            if (quotas is null)
            {
                return ApiError.InvalidQuotas.With(quotasError!).ToResult();
            }
        }

        // Artifacts (docs/artifacts.md) come from the client's CDP commands and the runtime's answers.
        var artifacts = body?.Record?.Artifacts == true;
        if (artifacts && leaseProtocol != LeaseProtocol.Cdp)
        {
            return ApiError.InvalidRecord.With("record.artifacts applies to \"cdp\" leases only.").ToResult();
        }

        if (await runtimes.GetAsync(runtimeId, cancellationToken) is null)
        {
            return ApiError.RuntimeNotFound.ToResult();
        }

        // Whole seconds: the token carries Unix seconds, and the record must say what the token says.
        var now = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        var record = new ConnectionRecord(
            Guid.CreateVersion7(), runtimeId, leaseProtocol, now, now + TimeSpan.FromSeconds(Math.Floor(ttl.TotalSeconds)), DeletedAt: null, scope?.Target, policy?.Text, quotas?.Text, artifacts);
        await connections.CreateAsync(record, cancellationToken);
        var token = tokens.Issue(new LeaseClaims(record.Id, record.RuntimeId, record.Protocol, record.CreatedAt, record.ExpiresAt, record.ScopeTarget));
        var url = leaseProtocol == LeaseProtocol.Cdp ? endpoint.ConnectionUrl(token, record.ScopeTarget) : endpoint.LiveViewUrl(token);
        var response = new CreatedConnectionResponse(
            record.Id, record.RuntimeId, protocol, record.CreatedAt, record.ExpiresAt, new EndpointResponse(url), ScopeOf(record), Interactive(record.Protocol), PolicyOf(record), QuotasOf(record), RecordOf(record));
        context.Response.Headers.CacheControl = "no-store";
        return Results.Json(response, RelayJsonContext.Default.CreatedConnectionResponse, statusCode: 201);
    }

    private static async Task<IResult> ListConnectionsAsync(
        string runtimeId, HttpContext context, IRuntimeStore runtimes, IConnectionStore connections, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Pagination.TryRead(context.Request, PageOrders.Connections, out var page) is { } invalid)
        {
            return invalid.ToResult();
        }

        var all = await connections.ListAsync(runtimeId, cancellationToken);
        if (all.Count == 0 && await runtimes.GetAsync(runtimeId, cancellationToken) is null)
        {
            return ApiError.RuntimeNotFound.ToResult();
        }

        var (items, next) = page.Take(all);
        var data = new List<ConnectionResponse>(items.Count);
        foreach (var record in items)
        {
            data.Add(ToResponse(record, await connections.GetAttachCountsAsync(record.Id, cancellationToken), time.GetUtcNow()));
        }

        return Results.Json(new ListResponse<ConnectionResponse>(data, next), RelayJsonContext.Default.ListResponseConnectionResponse);
    }

    private static async Task<IResult> GetConnectionAsync(
        string runtimeId, string connectionId, IConnectionStore connections, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await FindAsync(runtimeId, connectionId, connections, cancellationToken) is not { } record)
        {
            return ApiError.ConnectionNotFound.ToResult();
        }

        var counts = await connections.GetAttachCountsAsync(record.Id, cancellationToken);
        return Results.Json(ToResponse(record, counts, time.GetUtcNow()), RelayJsonContext.Default.ConnectionResponse);
    }

    private static async Task<IResult> DeleteConnectionAsync(
        string runtimeId,
        string connectionId,
        HttpContext context,
        IConnectionStore connections,
        IRevocationView revocations,
        IOptions<RelayOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        // Read by hand: a bound bool would answer "?terminate=maybe" with an empty 400.
        var terminateText = context.Request.Query["terminate"].ToString();
        if (!bool.TryParse(terminateText.Length == 0 ? "false" : terminateText, out var terminate))
        {
            return ApiError.InvalidQuery.With("terminate must be true or false.").ToResult();
        }

        // A node whose view is stale cannot reach Redis: say so at once rather than at the deadline.
        if (revocations.Age > options.Value.Revocations.MaxStaleness)
        {
            return ApiError.StateUnavailable.ToResult();
        }

        if (await FindAsync(runtimeId, connectionId, connections, cancellationToken) is not { } record)
        {
            return ApiError.ConnectionNotFound.ToResult();
        }

        // The record first, then the revocation; 204 only once both are written. Either alone refuses the lease on
        // every node (the gate reads both), so a call cut off between them (503) has half taken effect, and its retry
        // finds the record, keeps its first deletion time and writes the revocation: nothing is ever lost after a 204.
        await connections.MarkDeletedAsync(record.Id, time.GetUtcNow(), cancellationToken);
        await revocations.RevokeAsync(record.Id, record.ExpiresAt, terminate, cancellationToken);
        return Results.NoContent();
    }

    private static async Task<ConnectionRecord?> FindAsync(
        string runtimeId, string connectionId, IConnectionStore connections, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(connectionId, out var id))
        {
            return null;
        }

        var record = await connections.GetAsync(id, cancellationToken);
        return record is not null && record.RuntimeId == runtimeId ? record : null;
    }

    private static RuntimeResponse ToResponse(RuntimeRecord runtime) => new(runtime.Id, runtime.CdpUrl.ToString(), runtime.CreatedAt);

    private static ConnectionResponse ToResponse(ConnectionRecord record, AttachCounts counts, DateTimeOffset now) => new(
        record.Id,
        record.RuntimeId,
        record.Protocol == LeaseProtocol.Cdp ? "cdp" : "live",
        record.CreatedAt,
        record.ExpiresAt,
        record.DeletedAt is not null ? "deleted" : record.ExpiresAt <= now ? "expired" : "active",
        new AttachCountsResponse(counts.Live, counts.Total),
        ScopeOf(record),
        Interactive(record.Protocol),
        PolicyOf(record),
        QuotasOf(record),
        RecordOf(record));

    private static RecordModel? RecordOf(ConnectionRecord record) => record.Artifacts ? new RecordModel(Artifacts: true) : null;

    private static QuotasModel? QuotasOf(ConnectionRecord record) => LeaseQuotas.TryParseText(record.Quotas) is { } quotas
        ? new QuotasModel(quotas.CommandsPerSecond, quotas.MaxAttaches, quotas.MaxAttachSeconds, quotas.MaxBytes)
        : null;

    private static PolicyModel? PolicyOf(ConnectionRecord record) => MethodPolicy.TryParseText(record.Policy) is { } policy
        ? new PolicyModel(policy.Preset, policy.Allow.Count > 0 ? policy.Allow : null, policy.Deny.Count > 0 ? policy.Deny : null)
        : null;

    private static ScopeModel? ScopeOf(ConnectionRecord record) => record.ScopeTarget is { } target ? new ScopeModel(target) : null;

    /// <summary>Said of live leases only; absent (null) on CDP leases.</summary>
    private static bool? Interactive(LeaseProtocol protocol) => protocol switch
    {
        LeaseProtocol.Live => false,
        LeaseProtocol.LiveInteractive => true,
        _ => null,
    };

    private static async Task<(T? Body, ApiError? Error)> ReadJsonAsync<T>(
        HttpContext context, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, bool allowEmpty = false)
        where T : class
    {
        // The request's own token, not the handler's: that one ends at the state store's deadline, and a slow upload
        // is not the store's failure.
        var cancellationToken = context.RequestAborted;
        if (allowEmpty && context.Request.ContentLength is 0 or null && !context.Request.Headers.TransferEncoding.Any())
        {
            return (null, null);
        }

        try
        {
            var body = await JsonSerializer.DeserializeAsync(context.Request.Body, type, cancellationToken);
            return body is null ? (null, ApiError.InvalidJson.With("The request body must be a JSON object.")) : (body, null);
        }
        catch (JsonException)
        {
            return (null, ApiError.InvalidJson);
        }
    }
}
