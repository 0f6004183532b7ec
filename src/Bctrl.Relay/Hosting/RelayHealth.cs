using Bctrl.Relay.Attach;
using Bctrl.Relay.Control;
using Bctrl.Relay.Options;
using Bctrl.Relay.State;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Hosting;

/// <summary>
/// <c>/healthz</c> (live: the process answers) and <c>/readyz</c> (ready: the revocation view is fresh and the node is
/// not draining) through ASP.NET's health checks, tagged <c>live</c> and <c>ready</c> (docs/operations.md). Bodies are
/// JSON: <c>{"status":"ok"}</c>, <c>{"status":"ready"}</c>, or the refusal a new attach would get now (503
/// <c>revocations_stale</c> or <c>draining</c>, with <c>Retry-After</c>).
/// </summary>
internal static class RelayHealth
{
    private const string Live = "live";
    private const string Ready = "ready";
    private const string ErrorKey = "error";

    public static void AddRelayHealth(this IServiceCollection services) => services.AddHealthChecks()
        .AddCheck("process", () => HealthCheckResult.Healthy(), tags: [Live])
        .AddCheck<ReadinessCheck>("attaches", tags: [Ready]);

    public static void MapRelayHealth(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(Live),
            ResponseWriter = (context, report) => WriteAsync(context, report, "{\"status\":\"ok\"}"),
        }).WithMetadata(new HttpMethodMetadata([HttpMethods.Get]));
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(Ready),
            ResponseWriter = (context, report) => WriteAsync(context, report, "{\"status\":\"ready\"}"),
        }).WithMetadata(new HttpMethodMetadata([HttpMethods.Get]));
    }

    private static Task WriteAsync(HttpContext context, HealthReport report, string healthy)
    {
        foreach (var entry in report.Entries.Values)
        {
            if (entry.Status != HealthStatus.Healthy)
            {
                return entry.Data.TryGetValue(ErrorKey, out var error) && error is ApiError refusal
                    ? refusal.WriteAsync(context)
                    : ApiError.NotReady.WriteAsync(context);
            }
        }

        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(healthy);
    }

    /// <summary>Ready when a new attach would not be refused for the node's own state: the same tests as <see cref="LeaseGate"/>.</summary>
    private sealed class ReadinessCheck(IRevocationView revocations, AttachRegistry registry, IOptions<RelayOptions> options) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var refusal = registry.IsDraining ? ApiError.Draining
                : revocations.Age > options.Value.Revocations.MaxStaleness ? ApiError.RevocationsStale
                : null;
            return Task.FromResult(refusal is null
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy(refusal.Code, data: new Dictionary<string, object> { [ErrorKey] = refusal }));
        }
    }
}
