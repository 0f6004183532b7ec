using System.Text;
using System.Text.Json;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Observation;

/// <summary>
/// A relay on 127.0.0.1:0 with a fake runtime registered under an id that appears nowhere else
/// (<see cref="RuntimeId"/>), so that a test can look for it in metrics; helpers to attach, read the run's record and
/// scrape <c>/metrics</c>.
/// </summary>
internal sealed class ObservationRig : IAsyncDisposable
{
    public const string RuntimeId = "rt-obs-4f2a9c";

    private ObservationRig(RelayServer relay, FakeRuntime runtime)
    {
        Relay = relay;
        Runtime = runtime;
    }

    public RelayServer Relay { get; }

    public FakeRuntime Runtime { get; }

    public static async Task<ObservationRig> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var runtime = FakeRuntime.Start();
        try
        {
            var relay = await RelayServer.StartAsync(settings);
            try
            {
                await relay.PutRuntimeAsync(RuntimeId, runtime.WebSocketUrl);
                return new ObservationRig(relay, runtime);
            }
            catch
            {
                await relay.DisposeAsync();
                throw;
            }
        }
        catch
        {
            await runtime.DisposeAsync();
            throw;
        }
    }

    /// <summary>A new connection (lease) on the rig's runtime: its id, endpoint and token.</summary>
    public async Task<Lease> CreateLeaseAsync()
    {
        var (id, url) = await Relay.CreateConnectionAsync(RuntimeId);
        return new Lease(id, url, url.Segments[^1]);
    }

    /// <summary>Attaches a raw client under <paramref name="lease"/> and takes the runtime's side of the same attach.</summary>
    public async Task<(RawClient Client, FakeRuntimeConnection Runtime)> AttachAsync(Lease lease, string? extraHeaders = null)
    {
        var client = await RawClient.OpenAsync(lease.Endpoint, extraHeaders);
        return (client, await Runtime.NextConnectionAsync());
    }

    /// <summary>Opens the runtime's event stream.</summary>
    public Task<SseReader> OpenEventsAsync(string? query = null, string? lastEventId = null)
        => SseReader.OpenAsync(Relay.Http, $"v1/runtimes/{RuntimeId}/events{query}", lastEventId);

    /// <summary>Every record of the run so far, read from the start until <paramref name="until"/> matches one.</summary>
    public async Task<IReadOnlyList<SseEvent>> ReadRecordsUntilAsync(Func<SseEvent, bool> until, string? query = null)
    {
        await using var reader = await OpenEventsAsync(query);
        return await reader.ReadUntilAsync(until);
    }

    /// <summary>The connection's attaches as <c>GET …/connections/{id}/attaches</c> lists them.</summary>
    public async Task<JsonElement[]> GetAttachesAsync(string connectionId)
    {
        var text = await Relay.Http.GetStringAsync($"v1/runtimes/{RuntimeId}/connections/{connectionId}/attaches");
        using var json = JsonDocument.Parse(text);
        return [.. json.RootElement.GetProperty("data").EnumerateArray().Select(e => e.Clone())];
    }

    /// <summary>Polls the attaches until <paramref name="done"/> holds for them (bounded).</summary>
    public async Task<JsonElement[]> WaitForAttachesAsync(string connectionId, Func<JsonElement[], bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var attaches = await GetAttachesAsync(connectionId);
            if (done(attaches))
            {
                return attaches;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the attaches never got there: [{string.Join(", ", attaches.Select(a => a.GetRawText()))}]");
            await Task.Delay(20);
        }
    }

    /// <summary>GET /metrics, parsed.</summary>
    public async Task<PrometheusText> ScrapeAsync()
    {
        using var response = await Relay.Http.GetAsync("metrics");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"/metrics answered {(int)response.StatusCode}: {text}");
        return PrometheusText.Parse(text);
    }

    /// <summary>Scrapes until <paramref name="done"/> holds (the exporter may serve a cached scrape for a moment).</summary>
    public Task<PrometheusText> ScrapeUntilAsync(Func<PrometheusText, bool> done, string what)
        => PrometheusText.UntilAsync(ScrapeAsync, done, what);

    /// <summary>
    /// Answers each CDP command the runtime side receives as a browser does: a result with the command's id (an error
    /// for methods named <c>Fail.*</c>) and, when <paramref name="eventEach"/> is set, an event first. A close is
    /// answered with the same close, then the connection ends. Returns the bytes it wrote.
    /// </summary>
    public static async Task<long> RespondAsync(FakeRuntimeConnection runtime, bool eventEach = true)
    {
        long written = 0;
        while (true)
        {
            FakeRuntimeFrame frame;
            try
            {
                frame = await runtime.ReadFrameAsync();
            }
            catch (Exception exception) when (exception is IOException or EndOfStreamException or ObjectDisposedException)
            {
                return written;
            }

            if (frame.Opcode == FakeRuntimeFrame.Close)
            {
                written += await WriteAsync(runtime, FakeRuntimeFrame.Encode(FakeRuntimeFrame.Close, frame.Payload));
                runtime.Drop();
                return written;
            }

            if (frame.Opcode != FakeRuntimeFrame.Text)
            {
                continue;
            }

            using var command = JsonDocument.Parse(frame.Payload);
            var id = command.RootElement.GetProperty("id").GetInt64();
            var method = command.RootElement.GetProperty("method").GetString()!;
            var session = command.RootElement.TryGetProperty("sessionId", out var s) ? $",\"sessionId\":\"{s.GetString()}\"" : string.Empty;
            if (eventEach)
            {
                written += await WriteAsync(runtime, FakeRuntimeFrame.Encode(
                    FakeRuntimeFrame.Text, Encoding.UTF8.GetBytes($$"""{"method":"Page.lifecycleEvent","params":{"frameId":"F","name":"n{{id}}"}{{session}}}""")));
            }

            var answer = method.StartsWith("Fail.", StringComparison.Ordinal)
                ? $$"""{"id":{{id}},"error":{"code":-32601,"message":"'{{method}}' wasn't found"}{{session}}}"""
                : $$"""{"id":{{id}},"result":{}{{session}}}""";
            written += await WriteAsync(runtime, FakeRuntimeFrame.Encode(FakeRuntimeFrame.Text, Encoding.UTF8.GetBytes(answer)));
        }
    }

    /// <summary>A client command frame (masked) with the given id and method.</summary>
    public static byte[] Command(long id, string method, string parameters = "{}", string? sessionId = null)
        => RawClient.Frame(FakeRuntimeFrame.Text, Encoding.UTF8.GetBytes(
            $$"""{"id":{{id}},"method":"{{method}}","params":{{parameters}}{{(sessionId is null ? string.Empty : $",\"sessionId\":\"{sessionId}\"")}}}"""));

    public async ValueTask DisposeAsync()
    {
        await Relay.DisposeAsync();
        await Runtime.DisposeAsync();
    }

    private static async Task<int> WriteAsync(FakeRuntimeConnection runtime, byte[] frame)
    {
        await runtime.SendRawAsync(frame);
        return frame.Length;
    }
}

/// <summary>A lease as a test holds it.</summary>
internal sealed record Lease(string Id, Uri Endpoint, string Token);
