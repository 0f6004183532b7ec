using Bctrl.Relay.Options;

namespace Bctrl.Relay.Discovery;

/// <summary>The one HTTP client the relay uses to ask runtimes for their discovery documents.</summary>
internal static class DiscoveryHttp
{
    public static HttpClient CreateClient(RelayOptions options) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectTimeout = options.Limits.HandshakeTimeout,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
    })
    {
        Timeout = options.Limits.HandshakeTimeout,
    };
}
