using Bctrl.Relay.Options;

namespace Bctrl.Relay.Discovery;

/// <summary>The one HTTP client the relay uses to ask runtimes for their discovery documents and browser socket.</summary>
internal static class DiscoveryHttp
{
    public static HttpClient CreateClient(RelayOptions options) => new(new SocketsHttpHandler
    {
        UseProxy = false,

        // A runtime's answer is untrusted input (issue 8): a redirect would make the relay fetch any address the runtime
        // names and hand the body to the lease holder. A 3xx is answered like any other status that is not 2xx.
        AllowAutoRedirect = false,
        ConnectTimeout = options.Limits.HandshakeTimeout,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
    })
    {
        Timeout = options.Limits.HandshakeTimeout,
    };
}
