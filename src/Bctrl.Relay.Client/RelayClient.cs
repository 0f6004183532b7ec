using Bctrl.Relay.Client.Http;

namespace Bctrl.Relay.Client;

/// <summary>
/// A client of a relay's control API (README, "HTTP surface"): <c>relay.Runtimes["local"].Connections.CreateAsync()</c>.
/// Thread-safe; one per relay is enough. Every refusal surfaces as a <see cref="RelayApiException"/>.
/// </summary>
public sealed class RelayClient : IDisposable
{
    private readonly RelayHttp _http;

    /// <summary>A client with its own <see cref="HttpClient"/>, disposed with it.</summary>
    /// <param name="baseAddress">The relay, like <c>http://127.0.0.1:8080</c> (its control listener, when
    /// <c>Relay:ManagementUrls</c> moves the control API).</param>
    /// <param name="apiKey">The control API key (<c>Relay:ControlApiKey</c>).</param>
    public RelayClient(Uri baseAddress, string apiKey)
        : this(new RelayHttp(new HttpClient(), baseAddress ?? throw new ArgumentNullException(nameof(baseAddress)), RequireKey(apiKey), ownsClient: true))
    {
    }

    /// <summary>A client over an <see cref="HttpClient"/> the caller owns, whose <see cref="HttpClient.BaseAddress"/>
    /// names the relay.</summary>
    /// <param name="httpClient">Its base address names the relay.</param>
    /// <param name="apiKey">The control API key, sent on each request; null when a handler of
    /// <paramref name="httpClient"/> adds the Authorization header itself.</param>
    public RelayClient(HttpClient httpClient, string? apiKey = null)
        : this(new RelayHttp(
            httpClient ?? throw new ArgumentNullException(nameof(httpClient)),
            httpClient.BaseAddress ?? throw new ArgumentException("The HttpClient needs a BaseAddress naming the relay.", nameof(httpClient)),
            apiKey,
            ownsClient: false))
    {
    }

    private RelayClient(RelayHttp http)
    {
        _http = http;
        Runtimes = new RuntimesClient(http);
    }

    /// <summary>The runtimes: <c>Runtimes["id"]</c> for one, <c>PutAsync</c>/<c>ListAsync</c>/<c>DeleteAsync</c>.</summary>
    public RuntimesClient Runtimes { get; }

    /// <summary>Disposes the <see cref="HttpClient"/> if this client made it.</summary>
    public void Dispose() => _http.Dispose();

    /// <summary>The typed client the DI registration builds over a factory-made <see cref="HttpClient"/>.</summary>
    internal static RelayClient Create(HttpClient httpClient, RelayClientOptions options)
        => new(new RelayHttp(
            httpClient,
            options.BaseAddress ?? httpClient.BaseAddress ?? throw new InvalidOperationException("RelayClientOptions.BaseAddress is not set."),
            options.ApiKey,
            ownsClient: false));

    private static string RequireKey(string apiKey)
        => string.IsNullOrEmpty(apiKey) ? throw new ArgumentException("The control API key is required.", nameof(apiKey)) : apiKey;
}
