using System.Net;
using System.Text;
using System.Text.Json;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bctrl.Relay.FunctionalTests.Artifacts;

/// <summary>What the artifact tests share: CDP messages that carry artifacts, and reading the relay's list, bytes and counts.</summary>
internal static class ArtifactRig
{
    public static readonly object Lease = new { protocol = "cdp", record = new { artifacts = true } };

    /// <summary>Bytes that read as a PNG (its signature first), <paramref name="length"/> long, deterministic.</summary>
    public static byte[] Png(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        byte[] signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        signature.CopyTo(bytes, 0);
        return bytes;
    }

    public static byte[] Command(long id, string method, string session = "S")
        => Encoding.UTF8.GetBytes($$"""{"id":{{id}},"method":"{{method}}","sessionId":"{{session}}"}""");

    /// <summary>A result as Chromium writes it: the data first, the session last.</summary>
    public static byte[] DataResult(long id, byte[] data, string session = "S")
        => Encoding.UTF8.GetBytes($$"""{"id":{{id}},"result":{"data":"{{Convert.ToBase64String(data)}}"},"sessionId":"{{session}}"}""");

    public static byte[] ScreencastFrame(byte[] data, int frame)
        => Encoding.UTF8.GetBytes($$"""{"method":"Page.screencastFrame","params":{"data":"{{Convert.ToBase64String(data)}}","metadata":{"offsetTop":0,"pageScaleFactor":1,"deviceWidth":800,"deviceHeight":600,"scrollOffsetX":0,"scrollOffsetY":0},"sessionId":{{frame}}},"sessionId":"S"}""");

    /// <summary>Sends a client command (<paramref name="json"/>, or a bare one) through the attach and takes it on the runtime's side.</summary>
    public static async Task SendCommandAsync(RawClient client, FakeRuntimeConnection runtime, long id, string method, string? json = null)
    {
        await client.SendFrameAsync(FakeRuntimeFrame.Text, json is null ? Command(id, method) : Encoding.UTF8.GetBytes(json));
        var passed = await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains(method, passed.PayloadText, StringComparison.Ordinal);
    }

    /// <summary>The runtime's artifacts, once the list holds at least <paramref name="count"/> (bounded wait).</summary>
    public static async Task<JsonElement[]> WaitForListAsync(RelayServer relay, int count, string query = "")
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var list = await ListAsync(relay, query);
            if (list.Length >= count)
            {
                return list;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the artifact list never held {count}: it holds {list.Length}");
            await Task.Delay(50);
        }
    }

    public static async Task<JsonElement[]> ListAsync(RelayServer relay, string query = "")
    {
        using var response = await relay.Http.GetAsync($"/v1/runtimes/{SpliceHarness.RuntimeId}/artifacts{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return [.. json.RootElement.GetProperty("data").EnumerateArray().Select(e => e.Clone())];
    }

    public static async Task<(byte[] Bytes, string? ContentType)> GetBytesAsync(RelayServer relay, string artifactId)
    {
        using var response = await relay.Http.GetAsync($"/v1/runtimes/{SpliceHarness.RuntimeId}/artifacts/{artifactId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadAsByteArrayAsync(), response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>
    /// Waits (bounded) until the relay's count of artifacts stored (of a kind) or lost (for a reason) reads
    /// <paramref name="count"/>: what <c>bctrl_relay_artifacts_{stored|lost}_total</c> exports, read in process, since
    /// several relays in one test process share the meter's name and a scrape may show another's; the scrape is checked
    /// to name the series.
    /// </summary>
    public static async Task WaitForCountAsync(RelayServer relay, string metric, string name, long count)
    {
        var queue = relay.Services.GetRequiredService<Bctrl.Relay.Artifacts.ArtifactQueue>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        long Read() => metric == "stored" ? queue.Stored(name) : queue.Lost(name);
        while (Read() != count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"artifacts {metric} ({name}) never read {count}: it reads {Read()}");
            await Task.Delay(50);
        }

        var label = metric == "stored" ? $"kind=\"{name}\"" : $"reason=\"{name}\"";
        var scrape = await relay.Http.GetStringAsync("/metrics");
        Assert.Contains(scrape.Split('\n'), l => l.StartsWith($"bctrl_relay_artifacts_{metric}_total{{", StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal));
    }

    /// <summary>Ends an attach cleanly from the client's side.</summary>
    public static async Task CloseAsync(RawClient client, FakeRuntimeConnection runtime)
    {
        await client.SendCloseAsync(1000);
        Assert.Equal(FakeRuntimeFrame.Close, (await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10))).Opcode);
        await runtime.SendCloseAsync(1000);
    }
}
