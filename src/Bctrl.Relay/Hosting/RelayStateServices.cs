using Bctrl.Relay.Metrics;
using Bctrl.Relay.Observation;
using Bctrl.Relay.Options;
using Bctrl.Relay.Redis;
using Bctrl.Relay.State;

namespace Bctrl.Relay.Hosting;

/// <summary>Where the relay keeps its state: in memory (the embedded default), or in Redis when <c>Relay:Redis</c> is set.</summary>
internal static class RelayStateServices
{
    /// <summary>A revocation outlives its lease by this much, for clock skew between nodes (as in memory).</summary>
    private static readonly TimeSpan RevocationGrace = TimeSpan.FromMinutes(1);

    public static IServiceCollection AddRelayState(this IServiceCollection services, RelayOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Redis))
        {
            services.AddSingleton<IRuntimeStore, InMemoryRuntimeStore>();
            services.AddSingleton<IConnectionStore, InMemoryConnectionStore>();
            services.AddSingleton<IRevocationView, InMemoryRevocationView>();
            services.AddSingleton<IEventStore>(new InMemoryEventStore(options.Observation.RecordsPerRuntime));
            services.AddSingleton<IAttachRecordStore, InMemoryAttachRecordStore>();
            return services;
        }

        var settings = new RedisStateSettings(
            options.Redis,
            options.Fleet.KeyPrefix,
            options.Revocations.MaxStaleness,
            options.Revocations.ConfirmInterval,
            options.Fleet.NodeTimeout,
            InMemoryConnectionStore.Retention,
            RevocationGrace);
        services.AddSingleton(sp => new RedisFleet(settings, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<IRuntimeStore>(sp => sp.GetRequiredService<RedisFleet>().Runtimes);
        services.AddSingleton<IConnectionStore>(sp => sp.GetRequiredService<RedisFleet>().ConnectionStore);
        services.AddSingleton<IRevocationView>(sp => sp.GetRequiredService<RedisFleet>().Revocations);
        services.AddSingleton<IEventStore>(sp =>
        {
            var fleet = sp.GetRequiredService<RedisFleet>();
            return new RedisEventStore(fleet.Connections, fleet.Keys, options.Observation.RecordsPerRuntime);
        });
        services.AddSingleton<IAttachRecordStore>(sp =>
        {
            var fleet = sp.GetRequiredService<RedisFleet>();
            return new RedisAttachRecordStore(fleet.Connections, fleet.Keys, options.Connections.MaxTtl + InMemoryConnectionStore.Retention);
        });
        services.AddSingleton<FleetMetrics>();
        services.AddHostedService<RedisFleetService>();
        return services;
    }
}
