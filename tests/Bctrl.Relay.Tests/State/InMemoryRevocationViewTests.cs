using Bctrl.Relay.State;

namespace Bctrl.Relay.Tests.State;

/// <summary>Issue 8, finding 3: a revocation is swept only once its lease's token can no longer verify.</summary>
public sealed class InMemoryRevocationViewTests
{
    [Fact(Timeout = 10_000)]
    public async Task A_revocation_outlives_its_lease_by_the_grace_and_is_swept_after()
    {
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        var view = new InMemoryRevocationView(TimeSpan.FromMinutes(4));
        var id = Guid.CreateVersion7();
        await view.RevokeAsync(id, expiresAt, terminate: false, default);

        Assert.Equal(0, view.Sweep(expiresAt + TimeSpan.FromMinutes(4)));
        Assert.True(view.IsRevoked(id));

        Assert.Equal(1, view.Sweep(expiresAt + TimeSpan.FromMinutes(4) + TimeSpan.FromSeconds(1)));
        Assert.False(view.IsRevoked(id));
    }
}
