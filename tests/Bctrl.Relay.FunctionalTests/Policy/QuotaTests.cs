using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Policy;

/// <summary>docs/quotas.md on the fake runtime: a command rate answered, attaches counted, time and bytes ended with their own codes.</summary>
public sealed class QuotaTests
{
    private const string RuntimeId = SpliceHarness.RuntimeId;

    [Fact(Timeout = 30_000)]
    public async Task Commands_over_the_rate_are_answered_with_a_CDP_error_and_the_rate_refills()
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp", quotas = new { commandsPerSecond = 5 } });
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;

        // Twenty at once: the bucket holds five, so at least fifteen are answered by the relay (a sixth may pass if a
        // refill lands between them) and never reach the runtime.
        for (var id = 1; id <= 20; id++)
        {
            await client.SendFrameAsync(FakeRuntimeFrame.Text, Encoding.UTF8.GetBytes($$"""{"id":{{id}},"method":"Page.enable","sessionId":"S"}"""));
        }

        var answered = new List<long>();
        for (var i = 0; i < 14; i++)
        {
            var frame = await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10));
            using var json = JsonDocument.Parse(frame.Payload);
            var error = json.RootElement.GetProperty("error");
            Assert.Equal(-32000, error.GetProperty("code").GetInt32());
            Assert.Equal("Page.enable is over this lease's quota of 5 commands per second.", error.GetProperty("message").GetString());
            Assert.Equal("S", json.RootElement.GetProperty("sessionId").GetString());
            answered.Add(json.RootElement.GetProperty("id").GetInt64());
        }

        Assert.DoesNotContain(1L, answered); // the first five went through
        for (var id = 1; id <= 5; id++)
        {
            var passed = await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal($$"""{"id":{{id}},"method":"Page.enable","sessionId":"S"}""", passed.PayloadText);
        }

        // A second later the bucket is full again.
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        await client.SendFrameAsync(FakeRuntimeFrame.Text, Encoding.UTF8.GetBytes("""{"id":100,"method":"Page.enable"}"""));
        while (true)
        {
            var frame = await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10));
            if (frame.PayloadText.Contains("\"id\":100", StringComparison.Ordinal))
            {
                break;
            }
        }

        await client.SendCloseAsync(1000);
        Assert.Equal(FakeRuntimeFrame.Close, (await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10))).Opcode);
        await runtime.SendCloseAsync(1000);
        await rig.WaitForRefusedAsync("rate", 14, atMost: 15); // every command the relay answered (a refill may let a sixth pass)
    }

    [Fact(Timeout = 30_000)]
    public async Task An_attach_ends_with_4004_at_its_time_limit()
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp", quotas = new { maxAttachSeconds = 2 } });
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;
        var watch = Stopwatch.StartNew();

        var close = await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(4004, close.CloseCode);
        Assert.Equal("attach time limit", close.CloseReason);
        Assert.InRange(watch.Elapsed.TotalSeconds, 1.5, 5);
        Assert.Equal(4004, (await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10))).CloseCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task An_attach_ends_with_4005_once_it_has_moved_its_bytes()
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp", quotas = new { maxBytes = 4096 } });
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;

        await client.SendFrameAsync(FakeRuntimeFrame.Text, Encoding.UTF8.GetBytes("""{"id":1,"method":"Page.enable"}"""));
        Assert.Equal("""{"id":1,"method":"Page.enable"}""", (await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10))).PayloadText);
        await runtime.SendFrameAsync(FakeRuntimeFrame.Text, new byte[5000]);
        Assert.Equal(5000, (await client.ReadFrameSkippingPingsAsync()).Payload.Length);

        var close = await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(4005, close.CloseCode);
        Assert.Equal("byte quota exceeded", close.CloseReason);
    }

    [Fact(Timeout = 30_000)]
    public async Task Attaches_over_max_attaches_are_refused_with_429_until_one_ends()
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp", quotas = new { maxAttaches = 1 } });
        var (client, _) = await rig.AttachAsync();

        // The attach counts as live once the relay has published it, a moment after the client's 101 (a CI run saw a
        // second attach made in that moment pass: noted on issue 11).
        await rig.WaitForAttachCountsAsync(live: 1, total: 1);
        await using (var second = await RawClient.ConnectAsync(rig.Endpoint))
        {
            await second.SendUpgradeAsync();
            var refused = await second.ReadResponseAsync();
            Assert.Equal(429, refused.Status);
            Assert.Equal("attach_quota_exceeded", refused.ErrorCode());
        }

        await client.SendCloseAsync(1000);
        await client.DisposeAsync();

        // Once the first has ended, another may attach.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            await using var next = await RawClient.ConnectAsync(rig.Endpoint);
            await next.SendUpgradeAsync();
            var response = await next.ReadResponseAsync();
            if (response.Status == 101)
            {
                break;
            }

            Assert.Equal(429, response.Status);
            Assert.True(DateTime.UtcNow < deadline, "the quota never let a new attach in after the first ended");
            await Task.Delay(100);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Quotas_are_listed_on_get()
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp", quotas = new { commandsPerSecond = 50, maxAttaches = 2, maxAttachSeconds = 600, maxBytes = 1073741824L } });
        using var one = JsonDocument.Parse(await rig.Relay.Http.GetStringAsync($"v1/runtimes/{RuntimeId}/connections/{rig.ConnectionId}"));
        var quotas = one.RootElement.GetProperty("quotas");
        Assert.Equal(50, quotas.GetProperty("commandsPerSecond").GetInt32());
        Assert.Equal(2, quotas.GetProperty("maxAttaches").GetInt32());
        Assert.Equal(600, quotas.GetProperty("maxAttachSeconds").GetInt32());
        Assert.Equal(1073741824L, quotas.GetProperty("maxBytes").GetInt64());
    }

    [Theory(Timeout = 30_000)]
    [InlineData("""{"protocol":"cdp","quotas":{}}""")]
    [InlineData("""{"protocol":"cdp","quotas":{"commandsPerSecond":0}}""")]
    [InlineData("""{"protocol":"cdp","quotas":{"maxAttaches":-1}}""")]
    [InlineData("""{"protocol":"cdp","quotas":{"maxBytes":10}}""")]
    [InlineData("""{"protocol":"cdp","quotas":{"maxAttachSeconds":99999999}}""")]
    [InlineData("""{"protocol":"live","quotas":{"maxAttaches":1}}""")]
    public async Task Malformed_quotas_are_refused_with_400(string body)
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp" });
        using var response = await rig.Relay.Http.PostAsync(
            $"v1/runtimes/{RuntimeId}/connections", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("\"invalid_quotas\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
