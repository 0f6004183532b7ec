using Bctrl.Relay.Artifacts;
using Bctrl.Relay.Metrics;
using Bctrl.Relay.Observation;
using Bctrl.Relay.Options;
using Bctrl.Relay.Redis;
using Bctrl.Relay.State;

namespace Bctrl.Relay.Hosting;

/// <summary>Where the relay keeps its state: in memory (the embedded default), or in Redis when <c>Relay:Redis</c> is set.</summary>
internal static class RelayStateServices
{
    /// <summary>Kept beyond the clock skew, for the nodes' clocks that prune revocations (they disagree too).</summary>
    private static readonly TimeSpan RevocationMargin = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a revocation outlives its lease's expiry, in memory and in Redis: a token verifies until expiry plus
    /// <c>Relay:Leases:ClockSkew</c>, and a revocation dropped sooner would admit the deleted lease again (issue 8,
    /// finding 3). A lease's record lives longer still (an hour past expiry, <see cref="InMemoryConnectionStore.Retention"/>).
    /// </summary>
    public static TimeSpan RevocationGrace(RelayOptions options) => options.Leases.ClockSkew + RevocationMargin;

    /// <summary>docs/artifacts.md: memory by default, Redis by default in a fleet, or a directory.</summary>
    private static void AddArtifactStore(IServiceCollection services, RelayOptions options, bool fleet)
    {
        var artifacts = options.Artifacts;
        var kind = artifacts.Store == ArtifactStoreKind.Auto ? (fleet ? ArtifactStoreKind.Redis : ArtifactStoreKind.Memory) : artifacts.Store;
        switch (kind)
        {
            case ArtifactStoreKind.Directory:
                services.AddSingleton<IArtifactStore>(sp => new DirectoryArtifactStore(
                    Path.GetFullPath(artifacts.Directory!), artifacts.PerRuntime, artifacts.Retention, sp.GetRequiredService<TimeProvider>()));
                break;
            case ArtifactStoreKind.Redis:
                services.AddSingleton<IArtifactStore>(sp =>
                {
                    var redis = sp.GetRequiredService<RedisFleet>();
                    return new RedisArtifactStore(redis.Connections, redis.Keys, artifacts.PerRuntime, artifacts.Retention);
                });
                break;
            default:
                services.AddSingleton<IArtifactStore>(sp => new InMemoryArtifactStore(
                    artifacts.PerRuntime, artifacts.MemoryBytes, artifacts.Retention, sp.GetRequiredService<TimeProvider>()));
                break;
        }
    }

    public static IServiceCollection AddRelayState(this IServiceCollection services, RelayOptions options)
    {
        var grace = RevocationGrace(options);
        if (string.IsNullOrWhiteSpace(options.Redis))
        {
            services.AddSingleton<IRuntimeStore, InMemoryRuntimeStore>();
            services.AddSingleton<IConnectionStore, InMemoryConnectionStore>();
            services.AddSingleton<IRevocationView>(new InMemoryRevocationView(grace));
            services.AddSingleton<IEventStore>(new InMemoryEventStore(options.Observation.RecordsPerRuntime));
            services.AddSingleton<IAttachRecordStore, InMemoryAttachRecordStore>();
            AddArtifactStore(services, options, fleet: false);
            return services;
        }

        var settings = new RedisStateSettings(
            options.Redis,
            options.Fleet.KeyPrefix,
            options.Revocations.MaxStaleness,
            options.Revocations.ConfirmInterval,
            options.Fleet.NodeTimeout,
            // The gate refuses a lease without a record: the record must outlive its token, as the revocation does.
            grace > InMemoryConnectionStore.Retention ? grace : InMemoryConnectionStore.Retention,
            grace);
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
        AddArtifactStore(services, options, fleet: true);
        services.AddSingleton<FleetMetrics>();
        services.AddHostedService<RedisFleetService>();
        return services;
    }
}
