using Bctrl.Relay.Attach;
using Bctrl.Relay.Hosting;
using Bctrl.Relay.Leases;
using Bctrl.Relay.Options;
using Bctrl.Relay.State;
using Bctrl.Relay.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary>
/// Issue 8, findings 2 and 3, in memory: the lease gate as the relay builds it (its state services, a clock the test
/// moves), so that a revocation can be followed past its lease's expiry without waiting minutes.
/// </summary>
public sealed class LeaseGateRecordTests
{
    private const string RuntimeId = "rt-1";

    [Fact(Timeout = 10_000)]
    public async Task With_a_3_minute_clock_skew_a_deleted_lease_is_refused_until_its_token_expires_even_after_a_sweep()
    {
        await using var rig = Rig.Start(TimeSpan.FromMinutes(3));
        var (record, token) = await rig.CreateLeaseAsync(TimeSpan.FromMinutes(1));
        Assert.Null((await rig.Gate.AdmitAsync(token, default)).Error);

        // Deleted as the control API deletes: the record marked, then the revocation.
        await rig.Connections.MarkDeletedAsync(record.Id, rig.Clock.GetUtcNow(), default);
        await rig.Revocations.RevokeAsync(record.Id, record.ExpiresAt, terminate: false, default);

        // Two minutes past expiry the token still verifies (skew 3 min); the heartbeat's sweep has run meanwhile.
        rig.Clock.Now = record.ExpiresAt + TimeSpan.FromMinutes(2);
        rig.Sweep();
        Assert.Equal("lease_revoked", (await rig.Gate.AdmitAsync(token, default)).Error?.Code);
        Assert.True(rig.Revocations.IsRevoked(record.Id), "the revocation was swept while its token still verifies");

        // Past expiry + skew the token itself is refused, and the revocation may go.
        rig.Clock.Now = record.ExpiresAt + TimeSpan.FromMinutes(5);
        rig.Sweep();
        Assert.Equal("lease_expired", (await rig.Gate.AdmitAsync(token, default)).Error?.Code);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_validly_signed_token_whose_lease_the_relay_has_no_record_of_is_refused_401_lease_unknown()
    {
        await using var rig = Rig.Start(TimeSpan.FromSeconds(5));
        await rig.CreateLeaseAsync(TimeSpan.FromMinutes(5));
        var now = rig.Clock.GetUtcNow();

        // As after Redis lost the lease records: the signature verifies, nothing says the lease exists.
        var token = rig.Tokens.Issue(new LeaseClaims(Guid.CreateVersion7(), RuntimeId, LeaseProtocol.Cdp, now, now.AddMinutes(5)));
        var (_, error) = await rig.Gate.AdmitAsync(token, default);

        Assert.Equal((401, "lease_unknown"), (error?.Status, error?.Code));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_token_whose_record_names_another_runtime_is_refused_401_invalid_lease()
    {
        await using var rig = Rig.Start(TimeSpan.FromSeconds(5));
        var (record, _) = await rig.CreateLeaseAsync(TimeSpan.FromMinutes(5));
        await rig.Runtimes.PutAsync(new RuntimeRecord("rt-2", new Uri("ws://127.0.0.1:9/devtools/browser/y"), record.CreatedAt), default);

        // The same lease id, signed for another runtime: only a relay's own key can do that, so it is belt and braces.
        var token = rig.Tokens.Issue(new LeaseClaims(record.Id, "rt-2", LeaseProtocol.Cdp, record.CreatedAt, record.ExpiresAt));
        var (_, error) = await rig.Gate.AdmitAsync(token, default);

        Assert.Equal((401, "invalid_lease"), (error?.Status, error?.Code));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_lease_whose_record_says_deleted_is_refused_even_when_the_view_never_heard_of_it()
    {
        await using var rig = Rig.Start(TimeSpan.FromSeconds(5));
        var (record, token) = await rig.CreateLeaseAsync(TimeSpan.FromMinutes(5));

        // A DELETE that marked the record and failed before its revocation (Redis went away between the two).
        await rig.Connections.MarkDeletedAsync(record.Id, rig.Clock.GetUtcNow(), default);
        Assert.False(rig.Revocations.IsRevoked(record.Id));

        Assert.Equal("lease_revoked", (await rig.Gate.AdmitAsync(token, default)).Error?.Code);
    }

    private sealed class Rig(ServiceProvider services, ManualClock clock) : IAsyncDisposable
    {
        public ManualClock Clock { get; } = clock;

        public LeaseGate Gate { get; } = ActivatorUtilities.CreateInstance<LeaseGate>(services);

        public LeaseTokens Tokens => services.GetRequiredService<LeaseTokens>();

        public IRuntimeStore Runtimes => services.GetRequiredService<IRuntimeStore>();

        public IConnectionStore Connections => services.GetRequiredService<IConnectionStore>();

        public IRevocationView Revocations => services.GetRequiredService<IRevocationView>();

        public static Rig Start(TimeSpan clockSkew)
        {
            var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
            var options = new RelayOptions { Leases = { ClockSkew = clockSkew } };
            options.Validate();
            var ring = new LeaseKeyRing([new SigningKey("test", Convert.FromBase64String(RelayServer.SigningSecret))]);
            var services = new ServiceCollection()
                .AddSingleton<TimeProvider>(clock)
                .AddSingleton(Microsoft.Extensions.Options.Options.Create(options))
                .AddSingleton(new LeaseTokens(ring, clock, options.Leases.ClockSkew))
                .AddSingleton<AttachRegistry>()
                .AddRelayState(options)
                .BuildServiceProvider();
            return new Rig(services, clock);
        }

        public async Task<(ConnectionRecord Record, string Token)> CreateLeaseAsync(TimeSpan ttl)
        {
            var now = Clock.GetUtcNow();
            await Runtimes.PutAsync(new RuntimeRecord(RuntimeId, new Uri("ws://127.0.0.1:9/devtools/browser/x"), now), default);
            var record = new ConnectionRecord(Guid.CreateVersion7(), RuntimeId, LeaseProtocol.Cdp, now, now + ttl, DeletedAt: null);
            await Connections.CreateAsync(record, default);
            return (record, Tokens.Issue(new LeaseClaims(record.Id, RuntimeId, LeaseProtocol.Cdp, now, record.ExpiresAt)));
        }

        /// <summary>What the heartbeat's sweep does, now.</summary>
        public void Sweep()
        {
            ((InMemoryConnectionStore)Connections).Sweep(Clock.GetUtcNow());
            ((InMemoryRevocationView)Revocations).Sweep(Clock.GetUtcNow());
        }

        public ValueTask DisposeAsync() => services.DisposeAsync();
    }

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
