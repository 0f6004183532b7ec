using Bctrl.Relay.Client;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="RelayClient"/> as a typed client of <c>IHttpClientFactory</c>.</summary>
public static class RelayServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="RelayClient"/> (transient, over a factory-made <see cref="HttpClient"/>) configured by
    /// <paramref name="configure"/>; the returned builder adds handlers or resilience like any typed client's.
    /// </summary>
    public static IHttpClientBuilder AddBctrlRelayClient(this IServiceCollection services, Action<RelayClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<RelayClientOptions>()
            .Configure(configure)
            .Validate(o => o.BaseAddress is { IsAbsoluteUri: true }, "RelayClientOptions.BaseAddress must be an absolute URI.");
        var builder = services.AddHttpClient(nameof(RelayClient));
        builder.AddTypedClient((httpClient, provider) => RelayClient.Create(httpClient, provider.GetRequiredService<IOptions<RelayClientOptions>>().Value));
        return builder;
    }
}
