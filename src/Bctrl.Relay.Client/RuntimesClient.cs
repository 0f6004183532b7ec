using Bctrl.Relay.Client.Http;

namespace Bctrl.Relay.Client;

/// <summary>The relay's runtimes (<c>/v1/runtimes</c>).</summary>
public sealed class RuntimesClient
{
    private readonly RelayHttp _http;

    internal RuntimesClient(RelayHttp http) => _http = http;

    /// <summary>One runtime's connections and events, by id; no call is made until one of them is used.</summary>
    public RuntimeClient this[string runtimeId] => new(_http, runtimeId);

    /// <summary>Registers a runtime, or replaces its CDP URL (<c>PUT /v1/runtimes/{id}</c>).</summary>
    /// <param name="runtimeId">1 to 64 ASCII letters, digits, '.', '_' or '-'.</param>
    /// <param name="cdpUrl">The browser's <c>ws://…/devtools/browser/…</c> socket, or its <c>http://host:9222</c>
    /// debugging base (resolved through <c>/json/version</c> at every attach).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<Runtime> PutAsync(string runtimeId, Uri cdpUrl, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cdpUrl);
        return _http.SendJsonAsync(
            HttpMethod.Put,
            Path(runtimeId),
            new PutRuntimeBody(cdpUrl.ToString()),
            ClientJson.Default.PutRuntimeBody,
            ClientJson.Default.Runtime,
            cancellationToken);
    }

    /// <summary>Every runtime, following the list's pages.</summary>
    public Task<IReadOnlyList<Runtime>> ListAsync(CancellationToken cancellationToken = default)
        => _http.ListAsync("v1/runtimes", ClientJson.Default.PageRuntime, cancellationToken);

    /// <summary>One runtime; 404 <c>runtime_not_found</c> as a <see cref="RelayApiException"/>.</summary>
    public Task<Runtime> GetAsync(string runtimeId, CancellationToken cancellationToken = default)
        => _http.GetAsync(Path(runtimeId), ClientJson.Default.Runtime, cancellationToken);

    /// <summary>Deletes a runtime; its connections stop admitting attaches.</summary>
    public Task DeleteAsync(string runtimeId, CancellationToken cancellationToken = default)
        => _http.DeleteAsync(Path(runtimeId), cancellationToken);

    internal static string Path(string runtimeId)
    {
        ArgumentException.ThrowIfNullOrEmpty(runtimeId);
        return "v1/runtimes/" + RelayHttp.Segment(runtimeId);
    }
}
