using System.Security.Cryptography;
using System.Text;
using Bctrl.Relay.Artifacts;
using Bctrl.Relay.Attach;
using Bctrl.Relay.Control;
using Bctrl.Relay.DevRuntime;
using Bctrl.Relay.Discovery;
using Bctrl.Relay.Hosting.Transport;
using Bctrl.Relay.Leases;
using Bctrl.Relay.LiveView;
using Bctrl.Relay.Metrics;
using Bctrl.Relay.Observation;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Bctrl.Relay.Options;
using Bctrl.Relay.Splice;
using Bctrl.Relay.State;
using Bctrl.Relay.Tls;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Hosting;

/// <summary>Builds the relay's web application; <c>Program</c> runs it, the functional tests host it on 127.0.0.1:0.</summary>
internal static class RelayApp
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    private const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        configure?.Invoke(builder);

        var section = builder.Configuration.GetSection(RelayOptions.SectionName);
        SettingsSchema.Check(section);
        var options = section.Get<RelayOptions>() ?? new RelayOptions();
        options.Validate();
        var generated = GenerateMissingSecrets(options, builder.Environment);
        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));

        var urls = ListenUrls(builder.Configuration);
        if (!string.IsNullOrWhiteSpace(options.ManagementUrls))
        {
            urls += ";" + options.ManagementUrls;
        }

        builder.WebHost.UseUrls(urls);
        ConfigureHttps(builder, options, urls);
        var budget = new ConnectionBudget(ConnectionBudget.LimitFor(
            options.Limits.MaxConnections, FileLimit.Current(), GC.GetGCMemoryInfo().TotalAvailableMemoryBytes));
        builder.Services.AddSingleton(budget);
        builder.Services.AddSingleton<Policy.CommandRates>(); // docs/quotas.md: a lease's command rate per node
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // A connection that sends nothing is closed after IdleConnectionTimeout (Kestrel's keep-alive timeout also
            // runs before the first request), one whose headers dawdle after RequestHeadersTimeout: silent
            // connections must not hold descriptors for Kestrel's default 130 s (issue 8, finding 1).
            kestrel.Limits.KeepAliveTimeout = options.Limits.IdleConnectionTimeout;
            kestrel.Limits.RequestHeadersTimeout = options.Limits.RequestHeadersTimeout;
            if (options.EffectiveTransport == ListenerTransport.Sockets)
            {
                // Kestrel's own limit, over every listener: it closes a connection over the limit without an answer.
                kestrel.Limits.MaxConcurrentConnections = budget.DataPlaneLimit + ConnectionBudget.ManagementConnections;
            }
        });
        var inlineIo = options.Splice.InlineIoFor(redisConfigured: !string.IsNullOrWhiteSpace(options.Redis));
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = inlineIo);
        if (options.EffectiveTransport == ListenerTransport.Relay)
        {
            // Registered after the Sockets transport, so Kestrel binds every IP endpoint with this one (it asks the
            // last registered factory first); the Sockets transport's options still shape each listening socket.
            builder.Services.AddSingleton(_ => new Loops.IoLoops(Loops.IoLoops.CountFor(options.IoLoops)));
            builder.Services.AddSingleton<IConnectionListenerFactory, RelayListenerFactory>();
        }

        if (inlineIo && Environment.GetEnvironmentVariable(InlineCompletionsVariable) is null)
        {
            // Read once, when the process's first socket starts its event loop: this takes effect only if no socket
            // was used before (always so in the relay's own process).
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
        }

        RelayLogging.Configure(builder.Logging, builder.Configuration);
        // An unhealthy readiness check is logged at Error on every probe; /readyz's answer and
        // bctrl_relay_revocations_age_seconds already say it (docs/operations.md).
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Critical);

        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(options.BuildKeyRing()!);
        services.AddSingleton(sp => new LeaseTokens(sp.GetRequiredService<LeaseKeyRing>(), sp.GetRequiredService<TimeProvider>(), options.Leases.ClockSkew));
        services.AddSingleton(new ControlAuth(Encoding.UTF8.GetBytes(options.ControlApiKey!)));
        services.AddRelayState(options);
        services.AddSingleton<AttachRegistry>();
        services.AddSingleton<SpliceClock>();
        services.AddSingleton<PublicEndpoint>();
        services.AddSingleton<LeaseGate>();
        services.AddSingleton<Refusals>();
        services.AddSingleton<AttachEndpoint>();
        services.AddSingleton<DiscoveryEndpoint>();
        services.AddSingleton<RuntimeAddresses>();
        services.AddSingleton(new RuntimeTrust(options.Tls));
        services.AddSingleton(sp => DiscoveryHttp.CreateClient(options, sp.GetRequiredService<RuntimeTrust>()));
        services.AddSingleton<RelayMetrics>();
        services.AddSingleton<ConnectionMetrics>();
        services.AddSingleton<LiveViewMetrics>();
        services.AddSingleton<LiveSessions>();
        services.AddSingleton<LiveViewEndpoint>();
        services.AddSingleton<RecordQueue>();
        services.AddSingleton<AttachRecorder>();
        services.AddHostedService<RecordPump>();
        services.AddSingleton<ArtifactQueue>();
        services.AddHostedService<ArtifactPump>();
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("bctrl-relay"))
            .WithMetrics(metrics => metrics
            .AddMeter(RelayMetrics.MeterName)
            // The runtime's own meter (GC, thread pool, exceptions: dotnet_*) and Kestrel's (connections, TLS
            // handshakes: kestrel_*), beside the relay's at /metrics (docs/operations.md).
            .AddMeter("System.Runtime", "Microsoft.AspNetCore.Server.Kestrel")
            .AddPrometheusExporter());
        services.AddRelayHealth();
        services.AddHostedService<Heartbeat>();
        services.AddHostedService<AttachDrain>();
        services.AddHostedService<DevRuntimeService>();
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, RelayJsonContext.Default);
            // The API reads bodies with RelayJsonContext's own options, which take numbers as numbers only; the OpenAPI
            // document's schemas come from these options, so they must say the same (the web default reads "300" too).
            json.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        });
        services.AddControlApiDocument();

        var app = builder.Build();
        Wire(app, options, generated);
        return app;
    }

    private static void Wire(WebApplication app, RelayOptions options, GeneratedSecrets generated)
    {
        var registry = app.Services.GetRequiredService<AttachRegistry>();
        _ = app.Services.GetRequiredService<RelayMetrics>(); // instruments exist from the start, not from the first attach
        _ = app.Services.GetRequiredService<ConnectionMetrics>();
        _ = app.Services.GetRequiredService<LiveViewMetrics>();
        _ = app.Services.GetRequiredService<ArtifactQueue>();
        var liveSessions = app.Services.GetRequiredService<LiveSessions>();
        var revocations = app.Services.GetRequiredService<IRevocationView>();
        var logger = app.Services.GetRequiredService<ILogger<AttachRegistry>>();
        revocations.Terminated += connectionId =>
        {
            var count = registry.Terminate(connectionId);
            if (count > 0)
            {
                RelayLog.Terminated(logger, count, connectionId);
            }

            // Live viewers close on the same signal (docs/live-view.md).
            liveSessions.Terminate(connectionId);
        };

        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStopping.Register(() =>
        {
            RelayLog.Draining(logger, registry.Count);
            registry.Drain();
            liveSessions.Drain();
        });
        var budget = app.Services.GetRequiredService<ConnectionBudget>();
        if (options.Limits.MaxConnections > budget.DataPlaneLimit && FileLimit.Current() is { } fileLimit)
        {
            RelayLog.ConnectionLimitLowered(logger, options.Limits.MaxConnections, fileLimit, budget.DataPlaneLimit);
        }

        var startup = app.Services.GetRequiredService<RelayLogging.HostStartup>();
        lifetime.ApplicationStarted.Register(() =>
        {
            startup.Started();
            PrintBanner(app, generated);
        });

        // The guard goes before routing so that even a routing failure answers in JSON without echoing the path.
        app.Use(Guard(ListenerRoles.ManagementPorts(options)));
        app.UseRouting();
        app.MapRelayHealth();
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapControlApi();
        app.MapControlApiDocument();
        AttachEndpoint.Map(app);
        DiscoveryEndpoint.Map(app);
        LiveViewEndpoint.Map(app);
        // "{*path}" so that paths whose last segment has a dot (every token does) also get the JSON 404.
        app.MapFallback("{*path}", (HttpContext context) => ApiError.NotFound.ToResult());
    }

    /// <summary>
    /// The outermost middleware: turns an unexpected exception into a JSON 500 that names nothing of the request (its
    /// path holds a token), and keeps management and data-plane paths on their own listeners when they are split.
    /// </summary>
    private static Func<HttpContext, RequestDelegate, Task> Guard(IReadOnlySet<int> managementPorts) => async (context, next) =>
    {
        if (managementPorts.Count > 0
            && ListenerRoles.IsManagementPath(context.Request.Path) != managementPorts.Contains(context.Connection.LocalPort))
        {
            await ApiError.NotFound.WriteAsync(context);
            return;
        }

        try
        {
            await next(context);
        }
        catch (Exception exception) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            RelayLog.RequestFault(context.RequestServices.GetRequiredService<ILogger<AttachRegistry>>(), exception.GetType().Name, exception.StackTrace ?? string.Empty);
            context.Response.Clear();
            await ApiError.RelayFault.WriteAsync(context);
        }
    };

    /// <summary>
    /// docs/tls.md: <c>https://</c> listen URLs serve <c>Relay:Tls:CertificatePath</c>, reloaded when its files change
    /// (<see cref="ServerCertificate"/>). CreateSlimBuilder leaves HTTPS out; it is added here.
    /// </summary>
    private static void ConfigureHttps(WebApplicationBuilder builder, RelayOptions options, string urls)
    {
        var https = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Any(url => url.StartsWith("https://", StringComparison.OrdinalIgnoreCase));
        if (https && options.Tls.CertificatePath is null)
        {
            throw new InvalidOperationException("An https:// listen URL needs Relay:Tls:CertificatePath (docs/tls.md).");
        }

        if (options.Tls.CertificatePath is null)
        {
            return;
        }

        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.Services.AddSingleton<ServerCertificate>();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(defaults =>
        {
            var certificate = kestrel.ApplicationServices.GetRequiredService<ServerCertificate>();
            defaults.ServerCertificateSelector = (_, _) => certificate.Current;
        }));
    }

    /// <summary>
    /// Where the data plane listens, in ASP.NET's order: <c>urls</c> (<c>--urls</c>, <c>ASPNETCORE_URLS</c> or
    /// <c>DOTNET_URLS</c>), else <c>http_ports</c> and <c>https_ports</c> (<c>ASPNETCORE_HTTP_PORTS</c>, as the .NET
    /// container images set it; <c>ASPNETCORE_HTTPS_PORTS</c>) on every address, else <see cref="DefaultUrl"/>.
    /// </summary>
    internal static string ListenUrls(IConfiguration configuration)
    {
        if (configuration["urls"] is { Length: > 0 } urls)
        {
            return urls;
        }

        var ports = Ports(configuration["http_ports"], "http").Concat(Ports(configuration["https_ports"], "https")).ToArray();
        return ports.Length > 0 ? string.Join(';', ports) : DefaultUrl;

        static IEnumerable<string> Ports(string? list, string scheme) => (list ?? string.Empty)
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(port => $"{scheme}://*:{port}");
    }

    private sealed record GeneratedSecrets(bool ControlKey, bool SigningKey);

    /// <summary>docs/design.md §8: outside Production, a missing control key or key ring is generated for the process.</summary>
    private static GeneratedSecrets GenerateMissingSecrets(RelayOptions options, IHostEnvironment environment)
    {
        var missing = new List<string>();
        if (options.ControlApiKey is null)
        {
            missing.Add("Relay:ControlApiKey");
        }

        if (options.SigningKeys.Count == 0)
        {
            missing.Add("Relay:SigningKeys");
        }

        if (missing.Count > 0 && environment.IsProduction())
        {
            throw new InvalidOperationException(
                $"In Production the relay needs {string.Join(" and ", missing)} configured; it generates them only in other environments.");
        }

        var generated = new GeneratedSecrets(options.ControlApiKey is null, options.SigningKeys.Count == 0);
        if (generated.ControlKey)
        {
            options.ControlApiKey = Base64Url(RandomNumberGenerator.GetBytes(24));
        }

        if (generated.SigningKey)
        {
            var ring = LeaseKeyRing.Generate();
            options.SigningKeys.Add(new SigningKeyOptions { Id = ring.Current.Id, Secret = Convert.ToBase64String(ring.Current.Secret) });
        }

        return generated;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The console banner of the embedded default. The generated control key is printed here, and only here.</summary>
    private static void PrintBanner(WebApplication app, GeneratedSecrets generated)
    {
        var options = app.Services.GetRequiredService<IOptions<RelayOptions>>().Value;
        var json = string.Equals(app.Configuration["Logging:Console:FormatterName"], "json", StringComparison.OrdinalIgnoreCase);
        if (json && !generated.ControlKey && !generated.SigningKey)
        {
            return; // JSON logs: stdout stays one JSON document per line (docs/operations.md), with nothing of the banner's to say
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var http = addresses.FirstOrDefault() ?? DefaultUrl;
        var console = new StringBuilder()
            .AppendLine()
            .AppendLine($"Bctrl.Relay listening on {string.Join(", ", addresses)}");
        if (generated.ControlKey)
        {
            console.AppendLine($"  control API key (generated for this process): {options.ControlApiKey}");
        }

        if (generated.SigningKey)
        {
            console.AppendLine("  lease signing key: generated for this process; leases end with it");
        }

        if (generated.ControlKey)
        {
            console.AppendLine("  try:")
                .AppendLine($"    curl -s -X POST -H 'Authorization: Bearer {options.ControlApiKey}' {http}/v1/runtimes/local/connections");
        }

        Console.Out.Write(console.ToString());
        Console.Out.Flush();
    }
}
