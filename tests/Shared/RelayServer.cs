using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Bctrl.Relay.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bctrl.Relay.Testing;

/// <summary>
/// The real relay (Kestrel) in this process on 127.0.0.1:0, with a known control key and signing key and any
/// extra configuration, on the transport <see cref="TestTransport"/> names unless the configuration names one. Dispose
/// stops it.
/// </summary>
public sealed class RelayServer : IAsyncDisposable
{
    public const string ControlKey = "test-control-key-0123456789abcdef";
    public const string SigningSecret = "c2lnbmluZy1rZXktZm9yLXRlc3RzLTAxMjM0NTY3ODlhYmNkZWY="; // 40 bytes, base64

    private readonly WebApplication _app;

    private RelayServer(WebApplication app, Uri baseUrl, LogCapture logs, TestCertificates? authority)
    {
        _app = app;
        BaseUrl = baseUrl;
        Logs = logs;
        var handler = new SocketsHttpHandler();
        if (authority is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => authority.Trusts(certificate);
        }

        Http = new HttpClient(handler) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ControlKey);
    }

    /// <summary>Like <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseUrl { get; }

    /// <summary>A client of the control API, already authorised.</summary>
    public HttpClient Http { get; }

    /// <summary>Every log line the relay wrote, formatted.</summary>
    public LogCapture Logs { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="authority">For a relay on <c>https://</c>: the test authority that signed its certificate, which
    /// <see cref="Http"/> then trusts (and nothing else).</param>
    public static async Task<RelayServer> StartAsync(IDictionary<string, string?>? settings = null, TestCertificates? authority = null)
    {
        var logs = new LogCapture();
        var app = RelayApp.Build(["--urls", "http://127.0.0.1:0", "--environment", "Testing"], builder =>
        {
            var values = new Dictionary<string, string?>
            {
                ["Relay:ControlApiKey"] = ControlKey,
                ["Relay:SigningKeys:0:Id"] = "test",
                ["Relay:SigningKeys:0:Secret"] = SigningSecret,
                ["Relay:DevRuntime:Enabled"] = "false",
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                values[key] = value;
            }

            TestTransport.ApplyTo(values);
            builder.Configuration.AddInMemoryCollection(values);
            builder.Logging.ClearProviders();
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            builder.Logging.AddProvider(logs);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RelayServer(app, new Uri(address.EndsWith('/') ? address : address + "/"), logs, authority);
    }

    /// <summary>Registers a runtime; returns its id.</summary>
    public async Task<string> PutRuntimeAsync(string id, Uri cdpUrl)
    {
        using var response = await Http.PutAsJsonAsync($"v1/runtimes/{id}", new { cdpUrl = cdpUrl.ToString() });
        response.EnsureSuccessStatusCode();
        return id;
    }

    /// <summary>Creates a connection; returns its id and endpoint URL.</summary>
    public async Task<(string Id, Uri Url)> CreateConnectionAsync(string runtimeId, int? ttlSeconds = null)
    {
        object body = ttlSeconds is null ? new { protocol = "cdp" } : new { protocol = "cdp", ttlSeconds };
        using var response = await Http.PostAsJsonAsync($"v1/runtimes/{runtimeId}/connections", body);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (json.RootElement.GetProperty("id").GetString()!, new Uri(json.RootElement.GetProperty("endpoint").GetProperty("url").GetString()!));
    }

    /// <summary>Creates a connection from a request body of the caller's; returns the created connection's JSON.</summary>
    public async Task<JsonElement> CreateConnectionAsync(string runtimeId, object body)
    {
        using var response = await Http.PostAsJsonAsync($"v1/runtimes/{runtimeId}/connections", body);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"Creating a connection answered {(int)response.StatusCode}: {text}");
        }

        using var json = JsonDocument.Parse(text);
        return json.RootElement.Clone();
    }

    public async Task DeleteConnectionAsync(string runtimeId, string connectionId, bool terminate = false)
    {
        using var response = await Http.DeleteAsync($"v1/runtimes/{runtimeId}/connections/{connectionId}{(terminate ? "?terminate=true" : string.Empty)}");
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}

/// <summary>
/// A logger provider that keeps every formatted line, for asserting what the relay logs (and never logs). Each line
/// also carries the entry's structured state and its scopes, as a JSON console formatter with scopes would print them.
/// Configuration names it by its alias, as <c>Logging:Capture:LogLevel:…</c> names the console provider's rules.
/// </summary>
[ProviderAlias(Alias)]
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    public const string Alias = "Capture";

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();
    private IExternalScopeProvider? _scopes;

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(string category, LogCapture capture) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => capture._scopes?.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = new System.Text.StringBuilder($"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)} {exception}");
            Append(line, " | state:", state);
            capture._scopes?.ForEachScope((scope, l) => Append(l, " | scope:", scope), line);
            capture._lines.Enqueue(line.ToString());
        }

        private static void Append(System.Text.StringBuilder line, string what, object? value)
        {
            line.Append(what);
            if (value is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var (key, item) in pairs)
                {
                    line.Append(' ').Append(key).Append('=').Append(item);
                }
            }
            else
            {
                line.Append(' ').Append(value);
            }
        }
    }
}
