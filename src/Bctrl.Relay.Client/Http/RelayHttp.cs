using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Bctrl.Relay.Client.Http;

/// <summary>
/// The one way the client speaks to the relay: absolute URIs under the base address, the bearer key on each request
/// (never on the shared <see cref="HttpClient"/>'s defaults), and every refusal turned into a <see cref="RelayApiException"/>.
/// </summary>
internal sealed class RelayHttp(HttpClient http, Uri baseAddress, string? apiKey, bool ownsClient) : IDisposable
{
    private readonly Uri _base = WithTrailingSlash(baseAddress);

    public async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, path);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, type, cancellationToken).ConfigureAwait(false);
    }

    public async Task<TResponse> SendJsonAsync<TBody, TResponse>(
        HttpMethod method, string path, TBody body, JsonTypeInfo<TBody> bodyType, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
    {
        using var request = Request(method, path);
        request.Content = JsonContent.Create(body, bodyType);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, responseType, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A body that is not JSON (an artifact's bytes), with its content type.</summary>
    public async Task<(byte[] Content, string? ContentType)> GetBytesAsync(string path, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, path);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return (await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false), response.Content.Headers.ContentType?.MediaType);
    }

    public async Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Delete, path);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Every item of a list, page after page: the pagination contract of the list endpoints (<c>cursor</c> in, and
    /// <c>nextCursor</c> out while there is a next page). A relay without pagination sends one page and no cursor.
    /// </summary>
    public async Task<IReadOnlyList<T>> ListAsync<T>(string path, JsonTypeInfo<Page<T>> type, CancellationToken cancellationToken)
    {
        var all = new List<T>();
        string? cursor = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        do
        {
            var page = await GetAsync(
                cursor is null ? path : $"{path}{(path.Contains('?', StringComparison.Ordinal) ? '&' : '?')}cursor={Uri.EscapeDataString(cursor)}", type, cancellationToken).ConfigureAwait(false);
            all.AddRange(page.Data ?? []);
            cursor = string.IsNullOrEmpty(page.NextCursor) ? null : page.NextCursor;
            if (cursor is not null && !seen.Add(cursor))
            {
                throw new RelayApiException("The relay sent the same page cursor twice.");
            }
        }
        while (cursor is not null);
        return all;
    }

    /// <summary>Opens a Server-Sent Events stream; the caller owns the response (a success, whose body is the stream).</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(string path, string? lastEventId, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        return await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (ownsClient)
        {
            http.Dispose();
        }
    }

    public static string Segment(string value) => Uri.EscapeDataString(value);

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, new Uri(_base, path));
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return request;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        var response = await http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await ToExceptionAsync(response, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false)
                ?? throw new RelayApiException("The relay answered with an empty body.");
        }
        catch (JsonException exception)
        {
            throw new RelayApiException("The relay's answer is not the JSON this client expects.", exception);
        }
    }

    /// <summary>The API's <c>{"error":{"code","message"}}</c>; anything else (a proxy's page) by its status alone, never its body.</summary>
    private static async Task<RelayApiException> ToExceptionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ErrorDetail? detail = null;
        try
        {
            detail = (await response.Content.ReadFromJsonAsync(ClientJson.Default.ErrorBody, cancellationToken).ConfigureAwait(false))?.Error;
        }
        catch (Exception exception) when (exception is JsonException or NotSupportedException or InvalidOperationException)
        {
            // Not the API's error body.
        }

        var retryAfter = response.Headers.RetryAfter?.Delta;
        var status = response.StatusCode;
        return detail?.Code is { Length: > 0 } code
            ? new RelayApiException(status, code, detail.Message ?? code, retryAfter)
            : new RelayApiException(status, "unexpected_response", string.Create(
                CultureInfo.InvariantCulture, $"The relay answered {(int)status} {Reason(status)} without an API error."), retryAfter);
    }

    private static string Reason(HttpStatusCode status) => Enum.IsDefined(status) ? status.ToString() : "";

    private static Uri WithTrailingSlash(Uri uri)
    {
        if (!uri.IsAbsoluteUri)
        {
            throw new ArgumentException("The relay's base address must be an absolute http:// or https:// URI.", nameof(uri));
        }

        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.GetLeftPart(UriPartial.Path) + "/");
    }
}
