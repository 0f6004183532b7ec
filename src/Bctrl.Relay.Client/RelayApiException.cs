using System.Net;

namespace Bctrl.Relay.Client;

/// <summary>
/// The relay refused a call: its HTTP status and the API's error code and message (README, "HTTP surface"), like
/// <c>404 runtime_not_found</c>. The message is the relay's, which never holds a key or a token.
/// </summary>
public sealed class RelayApiException : Exception
{
    /// <summary>Creates the exception for a refusal.</summary>
    public RelayApiException(HttpStatusCode statusCode, string code, string message, TimeSpan? retryAfter = null)
        : base(message)
    {
        StatusCode = statusCode;
        Code = code;
        RetryAfter = retryAfter;
    }

    /// <summary>Creates the exception with the code <c>unexpected_response</c>.</summary>
    public RelayApiException()
        : this(HttpStatusCode.InternalServerError, "unexpected_response", "The relay answered something unexpected.")
    {
    }

    /// <summary>Creates the exception with the code <c>unexpected_response</c>.</summary>
    public RelayApiException(string message)
        : this(HttpStatusCode.InternalServerError, "unexpected_response", message)
    {
    }

    /// <summary>Creates the exception with the code <c>unexpected_response</c>.</summary>
    public RelayApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = HttpStatusCode.InternalServerError;
        Code = "unexpected_response";
    }

    /// <summary>The HTTP status of the answer.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The API's snake_case error code, or <c>unexpected_response</c> for an answer without one.</summary>
    public string Code { get; }

    /// <summary>The answer's Retry-After, on a 503 (<c>state_unavailable</c>, <c>at_capacity</c>).</summary>
    public TimeSpan? RetryAfter { get; }
}
