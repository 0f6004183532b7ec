namespace Bctrl.Relay.Control;

/// <summary>
/// A refusal as a value: status, snake_case code and a human sentence (docs/design.md §2). Messages never carry a token, a
/// key or a runtime address. The constructor is private: every code is one entry of the catalogue
/// (<c>ApiError.Catalogue.cs</c>, docs/api.md), and a call site that needs a more precise sentence asks its entry for one
/// with <see cref="With"/>, which keeps the entry's status and code.
/// </summary>
internal sealed partial record ApiError
{
    private ApiError(int status, string code, string message, TimeSpan? retryAfter = null)
    {
        Status = status;
        Code = code;
        Message = message;
        RetryAfter = retryAfter;
    }

    public int Status { get; }

    public string Code { get; }

    public string Message { get; private init; }

    public TimeSpan? RetryAfter { get; }

    /// <summary>The same entry (status, code, Retry-After) with a sentence that says more about this refusal.</summary>
    public ApiError With(string message) => this with { Message = message };

    public Task WriteAsync(HttpContext context)
    {
        context.Response.StatusCode = Status;
        if (RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (string.Equals(Code, Unauthorized.Code, StringComparison.Ordinal))
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
