namespace Bctrl.Relay.Control;

/// <summary>
/// A refusal as a value: status, snake_case code and a human sentence (docs/design.md §2). Messages never carry a token, a
/// key or a runtime address.
/// </summary>
internal sealed record ApiError(int Status, string Code, string Message, TimeSpan? RetryAfter = null)
{
    public static ApiError Unauthorized { get; } = new(401, "unauthorized", "A valid control API key is required as a Bearer token.");

    public static ApiError InvalidLease { get; } = new(401, "invalid_lease", "The connection URL is not valid.");

    public static ApiError LeaseExpired { get; } = new(401, "lease_expired", "The connection has expired.");

    public static ApiError LeaseRevoked { get; } = new(401, "lease_revoked", "The connection has been deleted.");

    /// <summary>
    /// A validly signed token of a lease the relay has no record of: fail closed. 401 like the other refusals of a
    /// lease (the URL no longer grants anything, whatever is retried), but a code of its own, because the remedy is
    /// different from a tampered URL's: the lease was lost with the relay's state (Redis restarted empty) and must be
    /// reissued. Nothing could revoke such a lease, so admitting it is not an option.
    /// </summary>
    public static ApiError LeaseUnknown { get; } = new(401, "lease_unknown", "The relay has no record of this connection; create a new one.");

    /// <summary>
    /// The node cannot take more: at its connection or attach limit, or with no descriptor left for a socket the request
    /// needs. Another node can (issue 8, finding 1).
    /// </summary>
    public static ApiError AtCapacity { get; } = new(503, "at_capacity", "This relay node is at capacity; retry on another node.", TimeSpan.FromSeconds(1));

    /// <summary>
    /// The control API could not reach the relay's state (Redis) within <c>Relay:Revocations:MaxStaleness</c>. Nothing
    /// is known to have changed; every call is safe to retry (a DELETE is idempotent).
    /// </summary>
    public static ApiError StateUnavailable { get; } = new(
        503, "state_unavailable", "The relay's state store is not reachable; retry shortly.", TimeSpan.FromSeconds(1));

    public static ApiError RuntimeNotFound { get; } = new(404, "runtime_not_found", "The runtime does not exist.");

    public static ApiError ConnectionNotFound { get; } = new(404, "connection_not_found", "The connection does not exist.");

    public static ApiError NotFound { get; } = new(404, "not_found", "No such resource.");

    public Task WriteAsync(HttpContext context)
    {
        context.Response.StatusCode = Status;
        if (RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (Status == 401 && Code == "unauthorized")
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }

        return context.Response.WriteAsJsonAsync(new ErrorBody(new ErrorDetail(Code, Message)), RelayJsonContext.Default.ErrorBody);
    }

    public IResult ToResult() => new ApiErrorResult(this);

    private sealed class ApiErrorResult(ApiError error) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => error.WriteAsync(httpContext);
    }
}
