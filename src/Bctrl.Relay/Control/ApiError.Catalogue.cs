namespace Bctrl.Relay.Control;

/// <summary>
/// Every error code the relay answers, in one place (docs/api.md, "Error catalogue"). README's error table and the
/// OpenAPI document are checked against these entries by the tests, so a code cannot be added, renamed or given
/// another status in one of them alone.
/// </summary>
internal sealed partial record ApiError
{
    private static readonly TimeSpan RetrySoon = TimeSpan.FromSeconds(1);

    // 400: the request itself is wrong.

    public static ApiError InvalidJson { get; } = new(400, "invalid_json", "The request body is not valid JSON for this call.");

    public static ApiError InvalidQuery { get; } = new(400, "invalid_query", "A query parameter is not valid.");

    public static ApiError InvalidRuntimeId { get; } = new(400, "invalid_runtime_id", "A runtime id is 1 to 64 ASCII letters, digits, '.', '_' or '-'.");

    public static ApiError InvalidCdpUrl { get; } = new(
        400, "invalid_cdp_url", "cdpUrl must be an absolute ws:// or wss:// URL of the browser's CDP socket or an http:// or https:// URL of its debugging port.");

    public static ApiError UnsupportedProtocol { get; } = new(400, "unsupported_protocol", "The protocol is \"cdp\" or \"live\".");

    /// <summary><c>interactive</c> belongs to the live view (docs/live-view.md).</summary>
    public static ApiError InvalidInteractive { get; } = new(400, "invalid_interactive", "interactive is only for protocol \"live\".");

    /// <summary>The call site names the configured maximum through <see cref="With"/>.</summary>
    public static ApiError InvalidTtl { get; } = new(400, "invalid_ttl", "ttlSeconds is out of range.");

    public static ApiError InvalidTarget { get; } = new(400, "invalid_target", "The target id is not valid.");

    /// <summary>A <c>policy</c> on a new connection that is not a known preset or a list of method patterns (docs/policy.md).</summary>
    public static ApiError InvalidPolicy { get; } = new(
        400, "invalid_policy", "policy must be {\"preset\": \"readOnly\" | \"noBrowserControl\"} and/or {\"allow\": [...], \"deny\": [...]} with method patterns such as \"Page.navigate\", \"Storage.*\" or \"*\".");

    /// <summary><c>quotas</c> on a new connection that are not positive numbers within their bounds (docs/quotas.md).</summary>
    public static ApiError InvalidQuotas { get; } = new(
        400, "invalid_quotas", "quotas takes commandsPerSecond, maxAttaches, maxAttachSeconds and maxBytes, each a positive number within its bounds.");

    /// <summary>An attach over its lease's <c>maxAttaches</c>: as many attaches of the lease are live in the fleet (docs/quotas.md).</summary>
    public static ApiError AttachQuotaExceeded { get; } = new(
        429, "attach_quota_exceeded", "This connection has as many live attaches as its quota allows; close one first.");

    /// <summary>
    /// A request through a lease whose policy denies what it would do on the runtime: <c>/json/new</c> (as
    /// <c>Target.createTarget</c>), <c>/json/activate</c> and <c>/json/close</c> (docs/policy.md).
    /// </summary>
    public static ApiError PolicyDenied { get; } = new(403, "policy_denied", "This connection's policy does not allow this.");

    /// <summary><c>record</c> on a new connection that is not <c>{"artifacts": true|false}</c> on a CDP lease (docs/artifacts.md).</summary>
    public static ApiError InvalidRecord { get; } = new(400, "invalid_record", "record takes {\"artifacts\": true} on \"cdp\" leases.");

    /// <summary>A <c>scope</c> on a new connection that is not <c>{"target": "&lt;targetId&gt;"}</c> (docs/scope.md).</summary>
    public static ApiError InvalidScope { get; } = new(
        400, "invalid_scope", "scope must be {\"target\": \"<targetId>\"} with a target id of 1 to 128 ASCII letters, digits, '.', '_' or '-'.");

    public static ApiError InvalidWebSocketKey { get; } = new(400, "invalid_websocket_key", "Sec-WebSocket-Key must be base64 of 16 bytes.");

    /// <summary>RFC 6455 §4.1: "the HTTP version MUST be at least 1.1".</summary>
    public static ApiError WebSocketRequiresHttp11 { get; } = new(
        400, "websocket_requires_http11", "A WebSocket upgrade needs HTTP/1.1 or later (RFC 6455 §4.1).");

    // 401: the credential (control key or lease URL) grants nothing.

    public static ApiError Unauthorized { get; } = new(401, "unauthorized", "A valid control API key is required as a Bearer token.");

    public static ApiError InvalidLease { get; } = new(401, "invalid_lease", "The connection URL is not valid.");

    public static ApiError LeaseExpired { get; } = new(401, "lease_expired", "The connection has expired.");

    public static ApiError LeaseRevoked { get; } = new(401, "lease_revoked", "The connection has been deleted.");

    /// <summary>
    /// A live view's lease on <c>/cdp/{token}</c>, or a CDP lease on <c>/live/{token}</c> (docs/live-view.md): a lease
    /// opens only what it was created for.
    /// </summary>
    public static ApiError LeaseProtocolMismatch { get; } = new(401, "lease_protocol_mismatch", "The connection was created for another protocol.");

    /// <summary>
    /// A validly signed token of a lease the relay has no record of: fail closed. 401 like the other refusals of a
    /// lease (the URL no longer grants anything, whatever is retried), but a code of its own, because the remedy is
    /// different from a tampered URL's: the lease was lost with the relay's state (Redis restarted empty) and must be
    /// reissued. Nothing could revoke such a lease, so admitting it is not an option.
    /// </summary>
    public static ApiError LeaseUnknown { get; } = new(401, "lease_unknown", "The relay has no record of this connection; create a new one.");

    // 403: the lease is valid, but does not reach this.

    /// <summary>
    /// A scoped lease (docs/scope.md) asked for something outside its target: the browser socket, another target's
    /// socket or command, or a new target. Answered before any upgrade.
    /// </summary>
    public static ApiError ScopeForbidden { get; } = new(403, "scope_forbidden", "This connection is scoped to one target and cannot reach this.");

    // 404: nothing by that name.

    public static ApiError RuntimeNotFound { get; } = new(404, "runtime_not_found", "The runtime does not exist.");

    public static ApiError ConnectionNotFound { get; } = new(404, "connection_not_found", "The connection does not exist.");

    public static ApiError NotFound { get; } = new(404, "not_found", "No such resource.");

    /// <summary>No artifact of the runtime by that id: never stored, or dropped by retention (docs/artifacts.md).</summary>
    public static ApiError ArtifactNotFound { get; } = new(404, "artifact_not_found", "The runtime has no artifact with this id.");

    /// <summary>A target command through a lease (<c>/json/activate/{id}</c>, <c>/json/close/{id}</c>) names no target of the runtime.</summary>
    public static ApiError TargetNotFound { get; } = new(404, "target_not_found", "The runtime has no target with this id.");

    // 405: the path exists, the method does not.

    public static ApiError MethodNotAllowed { get; } = new(405, "method_not_allowed", "A target is opened with PUT /json/new?<url>, as Chromium asks.");

    // 426: the data plane takes WebSocket upgrades only.

    public static ApiError WebSocketRequired { get; } = new(
        426, "websocket_required", "This endpoint takes an HTTP/1.1 WebSocket upgrade (GET with Upgrade: websocket and Connection: Upgrade).");

    public static ApiError UnsupportedWebSocketVersion { get; } = new(426, "unsupported_websocket_version", "Only Sec-WebSocket-Version 13 is supported.");

    // 500: the relay's own failure; the answer names nothing of the request (its path may hold a token).

    public static ApiError RelayFault { get; } = new(500, "relay_fault", "The relay failed to handle the request.");

    // 502: the runtime failed the relay.

    public static ApiError RuntimeUnreachable { get; } = new(502, "runtime_unreachable", "The runtime could not be reached.");

    /// <summary>The call site says what went wrong through <see cref="With"/> (never the runtime's address).</summary>
    /// <summary>A <c>wss://</c> or <c>https://</c> runtime whose TLS handshake failed or whose certificate did not verify (docs/tls.md).</summary>
    public static ApiError RuntimeTlsFailed { get; } = new(
        502, "runtime_tls_failed", "The TLS handshake with the runtime failed: its certificate did not verify for its host name, or it does not speak TLS.");

    public static ApiError BadUpstreamHandshake { get; } = new(502, "bad_upstream_handshake", "The runtime's WebSocket handshake failed.");

    /// <summary>The call site names the document and the problem through <see cref="With"/>.</summary>
    public static ApiError BadUpstreamDiscovery { get; } = new(502, "bad_upstream_discovery", "The runtime's discovery document was refused.");

    // 503 with Retry-After: this node cannot serve the request now; another node, or this one shortly, can.

    /// <summary>
    /// The node cannot take more: at its connection or attach limit, or with no descriptor left for a socket the request
    /// needs. Another node can (issue 8, finding 1).
    /// </summary>
    public static ApiError AtCapacity { get; } = new(503, "at_capacity", "This relay node is at capacity; retry on another node.", RetrySoon);

    public static ApiError Draining { get; } = new(503, "draining", "This relay node is shutting down; retry on another node.", RetrySoon);

    public static ApiError RevocationsStale { get; } = new(
        503, "revocations_stale", "This relay node cannot confirm the connection is still valid; retry shortly.", RetrySoon);

    /// <summary>
    /// The control API could not reach the relay's state (Redis) within <c>Relay:Revocations:MaxStaleness</c>. Nothing
    /// is known to have changed; every call is safe to retry (a DELETE is idempotent).
    /// </summary>
    public static ApiError StateUnavailable { get; } = new(503, "state_unavailable", "The relay's state store is not reachable; retry shortly.", RetrySoon);

    /// <summary><c>/readyz</c> when a check failed without a refusal of its own to give.</summary>
    public static ApiError NotReady { get; } = new(503, "not_ready", "The relay is not ready.");

    /// <summary>Every entry above, in declaration order: what README's table and the OpenAPI document are checked against.</summary>
    public static IReadOnlyList<ApiError> All { get; } =
    [
        InvalidJson, InvalidQuery, InvalidRuntimeId, InvalidCdpUrl, UnsupportedProtocol, InvalidInteractive, InvalidTtl, InvalidTarget,
        InvalidScope, InvalidPolicy, InvalidQuotas, InvalidRecord, InvalidWebSocketKey, WebSocketRequiresHttp11,
        Unauthorized, InvalidLease, LeaseExpired, LeaseRevoked, LeaseProtocolMismatch, LeaseUnknown,
        ScopeForbidden, PolicyDenied,
        RuntimeNotFound, ConnectionNotFound, ArtifactNotFound, NotFound, TargetNotFound,
        MethodNotAllowed,
        WebSocketRequired, UnsupportedWebSocketVersion,
        AttachQuotaExceeded,
        RelayFault,
        RuntimeUnreachable, RuntimeTlsFailed, BadUpstreamHandshake, BadUpstreamDiscovery,
        AtCapacity, Draining, RevocationsStale, StateUnavailable, NotReady,
    ];
}
