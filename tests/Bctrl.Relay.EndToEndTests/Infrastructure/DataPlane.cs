using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Bctrl.Relay.EndToEndTests.Infrastructure;

/// <summary>
/// The data plane as a client sees it: no control key, only the lease in the URL. The endpoint URL is <c>ws://</c>;
/// its discovery form is the same URL with <c>http://</c>.
/// </summary>
internal static class DataPlane
{
    /// <summary>No bearer header on purpose: discovery must be authorised by the lease alone.</summary>
    public static HttpClient Http { get; } = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary><c>ws://host:port/cdp/TOKEN</c> becomes <c>http://host:port/cdp/TOKEN</c>.</summary>
    public static Uri HttpForm(Uri endpoint) => new UriBuilder(endpoint) { Scheme = endpoint.Scheme == "wss" ? "https" : "http" }.Uri;

    /// <summary>GETs a discovery document under the lease, like <c>json/list</c>.</summary>
    public static async Task<(JsonDocument Document, string Text)> GetDiscoveryAsync(Uri endpoint, string document, CancellationToken cancellationToken)
    {
        using var response = await Http.GetAsync($"{HttpForm(endpoint).AbsoluteUri}/{document}", cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET {document} answered {(int)response.StatusCode}: {text}");
        return (JsonDocument.Parse(text), text);
    }

    /// <summary>The <c>/json/list</c> entry of the page at <paramref name="pageUrl"/>: its target id and its socket URL as handed out.</summary>
    public static async Task<(string TargetId, Uri SocketUrl, JsonElement Entry, string ListText)> FindPageAsync(Uri endpoint, Uri pageUrl, CancellationToken cancellationToken)
    {
        var (list, text) = await GetDiscoveryAsync(endpoint, "json/list", cancellationToken);
        using (list)
        {
            var entry = list.RootElement.EnumerateArray().SingleOrDefault(e => e.GetProperty("url").GetString() == pageUrl.AbsoluteUri);
            Assert.True(entry.ValueKind == JsonValueKind.Object, $"/json/list has no page at {pageUrl}: {text}");
            return (entry.GetProperty("id").GetString()!, new Uri(entry.GetProperty("webSocketDebuggerUrl").GetString()!), entry.Clone(), text);
        }
    }

    /// <summary>
    /// A WebSocket upgrade request as a client library sends it, for reading a refusal: the status and the JSON error
    /// code (docs/design.md §2: refusals are real HTTP answers before any upgrade).
    /// </summary>
    public static async Task<(HttpStatusCode Status, string? Code, string Body)> TryUpgradeAsync(Uri socketUrl, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, HttpForm(socketUrl));
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new ProductHeaderValue("websocket"));
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        Assert.NotEqual(HttpStatusCode.SwitchingProtocols, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        string? code = null;
        try
        {
            using var json = JsonDocument.Parse(body);
            code = json.RootElement.GetProperty("error").GetProperty("code").GetString();
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // Not the relay's error shape: the caller's assertion on the code shows the body.
        }

        return (response.StatusCode, code, body);
    }

    /// <summary>
    /// Opens a tab on <paramref name="page"/> through a lease's <c>/json/new</c> (<paramref name="baseUrl"/>: its
    /// discovery form) and returns its target id; with <paramref name="title"/>, waits (bounded) until the tab shows it.
    /// </summary>
    public static async Task<string> OpenTabAsync(string baseUrl, Uri page, CancellationToken cancellationToken, string? title = null)
    {
        using var opened = await Http.PutAsync($"{baseUrl}/json/new?{page.AbsoluteUri}", null, cancellationToken);
        var text = await opened.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(opened.StatusCode == HttpStatusCode.OK, $"PUT json/new answered {(int)opened.StatusCode}: {text}");
        using var target = JsonDocument.Parse(text);
        var id = target.RootElement.GetProperty("id").GetString()!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (title is not null && DateTime.UtcNow < deadline)
        {
            using var list = JsonDocument.Parse(await Http.GetStringAsync($"{baseUrl}/json/list", cancellationToken));
            if (list.RootElement.EnumerateArray().Any(e => e.GetProperty("id").GetString() == id && e.GetProperty("title").GetString() == title))
            {
                break;
            }

            await Task.Delay(100, cancellationToken);
        }

        return id;
    }

    /// <summary>Closes a tab through a lease's <c>/json/close</c>; a tab that cannot be closed stays (nothing else depends on it).</summary>
    public static async Task CloseTabAsync(string baseUrl, string id)
    {
        try
        {
            using var closed = await Http.GetAsync($"{baseUrl}/json/close/{id}");
        }
        catch (HttpRequestException)
        {
            // The tab stays in the collection's Chromium.
        }
    }
}
