using Bctrl.Relay.Options;

namespace Bctrl.Relay.Hosting;

/// <summary>
/// With <c>Relay:ManagementUrls</c> set, the control API, <c>/metrics</c> and health answer only on those listeners
/// and the data plane only on the others. The OpenAPI document (<c>/openapi/v1.json</c>, docs/api.md) goes with the
/// control API it describes. The split is by the local port a request arrived on, not by its Host header.
/// </summary>
internal static class ListenerRoles
{
    public static IReadOnlySet<int> ManagementPorts(RelayOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ManagementUrls))
        {
            return new HashSet<int>();
        }

        return options.ManagementUrls
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(u => new Uri(Normalize(u)).Port)
            .ToHashSet();
    }

    /// <summary>Kestrel's wildcard hosts (<c>+</c>, <c>*</c>) are not valid URI hosts; read them as localhost.</summary>
    public static string Normalize(string url)
        => url.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal);

    public static bool IsManagementPath(PathString path)
        => path.StartsWithSegments("/v1") || path.StartsWithSegments("/metrics")
           || path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/openapi");
}
