using Bctrl.Relay.Options;
using Bctrl.Relay.Tls;

namespace Bctrl.Relay.Discovery;

/// <summary>The one HTTP client the relay uses to ask runtimes for their discovery documents and browser socket.</summary>
internal static class DiscoveryHttp
{
    public static HttpClient CreateClient(RelayOptions options, RuntimeTrust trust)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,

            // A runtime's answer is untrusted input (issue 8): a redirect would make the relay fetch any address the
            // runtime names and hand the body to the lease holder. A 3xx is answered like any other status that is not 2xx.
            AllowAutoRedirect = false,
            ConnectTimeout = options.Limits.HandshakeTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        };
        trust.Configure(handler); // https:// runtimes verify against the same authorities as wss:// ones
        return new HttpClient(handler) { Timeout = options.Limits.HandshakeTimeout };
    }

    /// <summary>The refusal for a failed request to a runtime: a TLS failure says so; no descriptor is the node's limit.</summary>
    public static Control.ApiError FailureOf(Exception exception) =>
        exception.InnerException is System.Security.Authentication.AuthenticationException ? Control.ApiError.RuntimeTlsFailed
        : Hosting.Transport.Descriptors.IsOutOf(exception) ? Control.ApiError.AtCapacity
        : Control.ApiError.RuntimeUnreachable;
}
