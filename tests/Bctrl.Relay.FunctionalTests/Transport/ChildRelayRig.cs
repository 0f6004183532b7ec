using System.Net.Http.Json;
using Bctrl.Relay.FunctionalTests.Observation;
using Bctrl.Relay.FunctionalTests.Processes;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Transport;

/// <summary>
/// The relay as a process of its own (<see cref="RelayChildProcess"/>: its own descriptors, its own <c>/metrics</c> that no
/// other relay of the test run adds to, a real SIGTERM), a fake runtime in the test process registered as
/// <see cref="RuntimeId"/>, and one lease on it.
/// </summary>
internal sealed class ChildRelayRig : IAsyncDisposable
{
    public const string RuntimeId = "fake";

    /// <summary>The gauge of issue 9's relay transport: live attaches per I/O loop, labelled <c>loop</c> ("0", "1", …).</summary>
    public const string LoopAttaches = "bctrl_relay_io_loop_attaches";

    private ChildRelayRig(RelayChildProcess relay, FakeRuntime runtime, Uri endpoint)
    {
        Relay = relay;
        Runtime = runtime;
        Endpoint = endpoint;
    }

    public RelayChildProcess Relay { get; }

    public FakeRuntime Runtime { get; }

    /// <summary>The lease's endpoint, <c>ws://127.0.0.1:PORT/cdp/TOKEN</c>.</summary>
    public Uri Endpoint { get; }

    public static async Task<ChildRelayRig> StartAsync(IDictionary<string, string> settings, bool echo)
    {
        var runtime = FakeRuntime.Start();
        runtime.Echo = echo;
        RelayChildProcess? relay = null;
        try
        {
            relay = await RelayChildProcess.StartAsync(settings: settings);
            using var response = await relay.Http.PutAsJsonAsync($"v1/runtimes/{RuntimeId}", new { cdpUrl = runtime.WebSocketUrl.ToString() });
            response.EnsureSuccessStatusCode();
            return new ChildRelayRig(relay, runtime, await relay.CreateLeaseAsync(RuntimeId));
        }
        catch
        {
            if (relay is not null)
            {
                await relay.DisposeAsync();
            }

            await runtime.DisposeAsync();
            throw;
        }
    }

    /// <summary>GET /metrics, parsed strictly.</summary>
    public async Task<PrometheusText> ScrapeAsync() => PrometheusText.Parse(await Relay.Http.GetStringAsync("metrics"));

    /// <summary>Scrapes until <paramref name="done"/> holds (bounded: the exporter may serve a scrape a moment old).</summary>
    public Task<PrometheusText> ScrapeUntilAsync(Func<PrometheusText, bool> done, string what)
        => PrometheusText.UntilAsync(ScrapeAsync, done, what);

    /// <summary>Scrapes until <paramref name="done"/> holds or 10 s have passed; returns the last scrape either way.</summary>
    public async Task<PrometheusText> ScrapeWhenAsync(Func<PrometheusText, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var scrape = await ScrapeAsync();
            if (done(scrape) || DateTime.UtcNow > deadline)
            {
                return scrape;
            }

            await Task.Delay(50);
        }
    }

    /// <summary>The <see cref="LoopAttaches"/> samples of a scrape, by their <c>loop</c> label.</summary>
    public static IReadOnlyDictionary<string, double> LoopsOf(PrometheusText scrape)
        => scrape.Samples.Where(s => s.Name == LoopAttaches).ToDictionary(s => s.Labels.GetValueOrDefault("loop") ?? "(no loop label)", s => s.Value);

    public static string Describe(IReadOnlyDictionary<string, double> loops)
        => loops.Count == 0 ? "no samples" : string.Join(", ", loops.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"loop {l.Key}: {l.Value}"));

    public async ValueTask DisposeAsync()
    {
        await Relay.DisposeAsync();
        await Runtime.DisposeAsync();
    }
}
