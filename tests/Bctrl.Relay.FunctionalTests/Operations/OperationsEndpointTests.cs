using System.Text.Json;
using Bctrl.Relay.Attach;
using Bctrl.Relay.FunctionalTests.Observation;
using Bctrl.Relay.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bctrl.Relay.FunctionalTests.Operations;

/// <summary>
/// docs/operations.md: health through ASP.NET's health checks with the same paths, statuses and JSON bodies, and the
/// build, runtime and Kestrel series beside the relay's. In the metrics collection: Kestrel's meter is heard by name
/// across every relay of the test process.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class OperationsEndpointTests
{
    [Fact(Timeout = 30_000)]
    public async Task Live_stays_200_and_ready_turns_503_draining_when_the_node_drains()
    {
        await using var relay = await RelayServer.StartAsync();
        using (var ready = await relay.Http.GetAsync("readyz"))
        {
            Assert.Equal(200, (int)ready.StatusCode);
            Assert.Equal("ready", await StatusAsync(ready));
        }

        relay.Services.GetRequiredService<AttachRegistry>().Drain();

        using var live = await relay.Http.GetAsync("healthz");
        using var draining = await relay.Http.GetAsync("readyz");
        Assert.Equal(200, (int)live.StatusCode);
        Assert.Equal("ok", await StatusAsync(live));
        Assert.Equal(503, (int)draining.StatusCode);
        Assert.Equal("application/json", draining.Content.Headers.ContentType?.MediaType);
        Assert.Equal("1", draining.Headers.GetValues("Retry-After").Single());
        using var body = JsonDocument.Parse(await draining.Content.ReadAsStringAsync());
        Assert.Equal("draining", body.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task Health_answers_GET_only_like_any_other_unknown_request()
    {
        await using var relay = await RelayServer.StartAsync();
        using var post = await relay.Http.PostAsync("healthz", null);
        Assert.Equal(404, (int)post.StatusCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_scrape_has_the_build_info_and_the_runtime_and_kestrel_series()
    {
        await using var relay = await RelayServer.StartAsync();
        using (await relay.Http.GetAsync("healthz"))
        {
        }

        var metrics = PrometheusText.Parse(await relay.Http.GetStringAsync("metrics"));

        var build = Assert.Single(metrics.Samples, s => s.Name == "bctrl_relay_build_info");
        Assert.Equal(1, build.Value);
        Assert.Equal(Bctrl.Relay.Hosting.RelayVersion.Informational, build.Labels["version"]);
        Assert.Contains(metrics.Samples, s => s.Name.StartsWith("dotnet_", StringComparison.Ordinal));
        Assert.Contains(metrics.Samples, s => s.Name.StartsWith("kestrel_", StringComparison.Ordinal));
    }

    private static async Task<string?> StatusAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("status").GetString();
    }
}
