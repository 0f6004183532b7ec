using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Smoke;

public sealed class HealthTests
{
    [Fact(Timeout = 30_000)]
    public async Task Healthz_and_readyz_answer_on_a_fresh_relay()
    {
        await using var relay = await RelayServer.StartAsync();
        using var health = await relay.Http.GetAsync("healthz");
        using var ready = await relay.Http.GetAsync("readyz");
        Assert.Equal(200, (int)health.StatusCode);
        Assert.Equal(200, (int)ready.StatusCode);
    }
}
