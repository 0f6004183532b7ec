using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Bctrl.Relay.Control;
using Bctrl.Relay.Hosting.Transport;
using Bctrl.Relay.State;
using Bctrl.Relay.Tls;

namespace Bctrl.Relay.Attach;

/// <summary>
/// Turns a runtime record into the addresses the relay dials: its HTTP debugging base (for discovery) and the
/// WebSocket URL of a browser or page socket. An <c>http://</c> cdpUrl is resolved through <c>/json/version</c> at
/// attach time, since Chromium's browser id changes with every start.
/// </summary>
/// <remarks>
/// The browser socket's path is kept for <see cref="BrowserPathLifetime"/> after a fetch: an attach storm then costs
/// one <c>/json/version</c> request per runtime every few seconds instead of one per attach (an HTTP request and a JSON
/// parse, most of an attach's CPU on a relay in front of a fast runtime; bench/README.md). A browser that restarts
/// gets a new path; the old one fails its dial, and the attach endpoint then forgets it and resolves again
/// (<see cref="Forget"/>), so a restart costs no refused attach.
/// </remarks>
internal sealed class RuntimeAddresses(HttpClient http, TimeProvider time)
{
    public static readonly TimeSpan BrowserPathLifetime = TimeSpan.FromSeconds(5);

    /// <summary>The most of a <c>/json/version</c> answer read: Chromium's is under 1 KiB.</summary>
    public const int MaxVersionBytes = 64 * 1024;

    private const int MaxKeptPaths = 1024;

    private readonly ConcurrentDictionary<Uri, (string Path, long FetchedAt)> _browserPaths = new();

    public static Uri HttpBase(RuntimeRecord runtime) => new UriBuilder(runtime.CdpUrl)
    {
        Scheme = RuntimeTrust.IsTls(runtime.CdpUrl) ? "https" : "http",
        Path = (runtime.CdpUrl.Scheme is "http" or "https" ? runtime.CdpUrl.AbsolutePath.TrimEnd('/') : string.Empty) + "/",
        Query = string.Empty,
        Port = runtime.CdpUrl.Port,
    }.Uri;

    /// <summary>
    /// The runtime's address with a DNS name replaced by the address it resolves to now: Chromium answers DevTools
    /// requests only when their <c>Host</c> is an IP address or <c>localhost</c>, and the relay sends the runtime's
    /// own address as <c>Host</c>. Resolved at every attach, so a runtime that moves is followed. A TLS runtime keeps
    /// its name: its certificate is checked against it (and a TLS front is not Chromium's <c>Host</c> check).
    /// </summary>
    public static async Task<Uri> ResolveHostAsync(Uri address, CancellationToken cancellationToken)
    {
        if (address.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 || address.IsLoopback || RuntimeTrust.IsTls(address))
        {
            return address;
        }

        var candidates = await Dns.GetHostAddressesAsync(address.DnsSafeHost, cancellationToken);
        var chosen = candidates.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? candidates.FirstOrDefault()
            ?? throw new SocketException((int)SocketError.HostNotFound);
        return new UriBuilder(address) { Host = chosen.ToString() }.Uri;
    }

    private static ApiError BadVersion(string problem) => ApiError.BadUpstreamHandshake.With($"The runtime's /json/version {problem}.");

    /// <summary>The answer's body in a pooled array (return it), or null when it is longer than <see cref="MaxVersionBytes"/>.</summary>
    private static async Task<(byte[]? Document, int Length)> ReadVersionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > MaxVersionBytes)
        {
            return (null, 0);
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = ArrayPool<byte>.Shared.Rent(MaxVersionBytes + 1);
        var length = 0;
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(length, MaxVersionBytes + 1 - length), cancellationToken)) > 0)
            {
                length += read;
                if (length > MaxVersionBytes)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return (null, 0);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return (buffer, length);
    }

    private void Keep(Uri cdpUrl, string path)
    {
        if (_browserPaths.Count >= MaxKeptPaths)
        {
            // Runtimes come and go: drop what has expired rather than grow with every runtime ever seen.
            foreach (var (url, entry) in _browserPaths)
            {
                if (time.GetElapsedTime(entry.FetchedAt) >= BrowserPathLifetime)
                {
                    _browserPaths.TryRemove(url, out _);
                }
            }
        }

        _browserPaths[cdpUrl] = (path, time.GetTimestamp());
    }

    /// <summary>Drops a kept browser path of this runtime, after a dial to it failed.</summary>
    public void Forget(RuntimeRecord runtime) => _browserPaths.TryRemove(runtime.CdpUrl, out _);

    /// <summary>
    /// The socket to dial: <paramref name="socketPath"/> (like <c>/devtools/page/ID</c>) or the browser socket when
    /// null. <c>Kept</c> says the browser path came from an earlier <c>/json/version</c>, not this call's.
    /// </summary>
    public async Task<(Uri? Target, ApiError? Error, bool Kept)> ResolveAsync(RuntimeRecord runtime, string? socketPath, CancellationToken cancellationToken)
    {
        Uri cdpUrl;
        try
        {
            cdpUrl = await ResolveHostAsync(runtime.CdpUrl, cancellationToken);
        }
        catch (SocketException)
        {
            return (null, ApiError.RuntimeUnreachable, false);
        }

        var origin = new UriBuilder(RuntimeTrust.IsTls(cdpUrl) ? "wss" : "ws", cdpUrl.Host, cdpUrl.Port);
        if (socketPath is not null)
        {
            origin.Path = socketPath;
            return (origin.Uri, null, false);
        }

        if (cdpUrl.Scheme is "ws" or "wss")
        {
            return (cdpUrl, null, false);
        }

        if (_browserPaths.TryGetValue(runtime.CdpUrl, out var kept) && time.GetElapsedTime(kept.FetchedAt) < BrowserPathLifetime)
        {
            origin.Path = kept.Path;
            return (origin.Uri, null, true);
        }

        // The client's timeout covers only the headers when the body is read as a stream: the deadline covers both.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(http.Timeout);
        try
        {
            // Not followed if it redirects (DiscoveryHttp), and read no further than MaxVersionBytes: the runtime's
            // answer is untrusted input (issue 8).
            using var response = await http.GetAsync(new Uri(HttpBase(runtime with { CdpUrl = cdpUrl }), "json/version"), HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            if (!response.IsSuccessStatusCode)
            {
                return (null, BadVersion($"answered with status {(int)response.StatusCode}"), false);
            }

            var (document, length) = await ReadVersionAsync(response, deadline.Token);
            if (document is null)
            {
                return (null, BadVersion($"is larger than {MaxVersionBytes / 1024} KiB"), false);
            }

            try
            {
                using var json = JsonDocument.Parse(document.AsMemory(0, length));
                if (json.RootElement.ValueKind == JsonValueKind.Object
                    && json.RootElement.TryGetProperty("webSocketDebuggerUrl", out var url)
                    && url.ValueKind == JsonValueKind.String
                    && Uri.TryCreate(url.GetString(), UriKind.Absolute, out var browserUrl))
                {
                    // Chromium writes the host it was asked by; only the path is taken, the address stays the registered one.
                    origin.Path = browserUrl.AbsolutePath;
                    Keep(runtime.CdpUrl, origin.Path);
                    return (origin.Uri, null, false);
                }
            }
            catch (JsonException)
            {
                return (null, BadVersion("is not valid JSON"), false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(document);
            }

            return (null, BadVersion("names no browser WebSocket"), false);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or OperationCanceledException)
        {
            // No descriptor for the request is the node at its limit, not the runtime at fault (issue 8, finding 1).
            return (null, Discovery.DiscoveryHttp.FailureOf(exception), false);
        }
    }
}
