using Bctrl.Relay.EndToEndTests.Infrastructure;
using Bctrl.Relay.Observation;
using PuppeteerSharp;

namespace Bctrl.Relay.EndToEndTests.Observation;

/// <summary>
/// Issue 4: with real Chromium driven by PuppeteerSharp through the relay, the record of the run holds the commands the
/// client sent, a result with a latency for each command that got one, the events it received, and an
/// <c>attach.closed</c> whose counts equal what went over the client's socket, counted by a proxy in between.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class RunRecordTests(ChromiumFixture fixture)
{
    /// <summary>What the sampler reads of each message by default (<c>Relay:Observation:PrefixBytes</c>).</summary>
    private const int PrefixBytes = 1024;

    /// <summary>No keep-alive ping during the run: the relay's own frames to the client are not the runtime's bytes.</summary>
    private static readonly Dictionary<string, string?> NoPings = new() { ["Relay:KeepAlive:Interval"] = "00:10:00" };

    [Fact(Timeout = 120_000)]
    public async Task The_record_of_a_Puppeteer_run_holds_its_commands_results_events_and_exact_byte_counts()
    {
        await using var relay = await Relays.StartAsync(fixture, settings: NoPings);
        await using var proxy = new CountingProxy(relay.BaseUrl);
        var (connectionId, endpoint) = await relay.CreateConnectionAsync(Relays.RuntimeId);

        IBrowser? browser = null;
        IPage? page = null;
        try
        {
            browser = await PuppeteerClient.ConnectAsync(proxy.Through(endpoint));
            page = await browser.NewPageAsync();
            var response = await page.GoToAsync(fixture.Site.Noise(51).AbsoluteUri);
            Assert.True(response.Ok, $"Navigation answered {response.Status}.");
            Assert.Equal(TestSite.NoiseTitle(51), await page.EvaluateExpressionAsync<string>("document.title"));
            Assert.Equal(51, await page.EvaluateFunctionAsync<int>("() => window.noiseSeed"));
        }
        finally
        {
            await PuppeteerClient.ReleaseAsync(browser, page);
        }

        var socket = Assert.Single(proxy.Connections);
        await socket.Completion.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.StartsWith("HTTP/1.1 101", socket.ResponseHead, StringComparison.Ordinal);
        var closed = await RunRecord.WaitForClosedAttachAsync(relay, Relays.RuntimeId, connectionId);
        var (records, _) = await RunRecord.ReadUntilAsync(relay, Relays.RuntimeId, r => r.Type == "attach.closed");
        var traffic = new CdpTraffic(socket);

        // The commands the client sent, each once, in order, with id and session.
        var sent = traffic.Sent.Where(m => m.Method is not null).Select(m => (m.Id, m.Method, m.SessionId)).ToArray();
        var recordedCommands = records.Where(r => r.Type == "cdp.command").Select(r => (r.CdpId, r.Method, r.SessionId)).ToArray();
        Assert.Equal(sent, recordedCommands);
        foreach (var method in new[] { "Target.createTarget", "Page.navigate" })
        {
            Assert.Contains(recordedCommands, c => c.Method == method);
        }

        Assert.Contains(recordedCommands, c => c.Method is "Runtime.evaluate" or "Runtime.callFunctionOn");

        // Every event the client received (the default rate records all), in order, page loads among them. Chromium
        // writes sessionId last, so a message longer than the sampled prefix (1 KiB) may be recorded without it; a
        // recorded field is never wrong.
        var events = records.Where(r => r.Type == "cdp.event").ToArray();
        var receivedEvents = traffic.Events.ToArray();
        Assert.Equal(receivedEvents.Select(e => e.Method), events.Select(e => e.Method));
        for (var i = 0; i < events.Length; i++)
        {
            AssertSameMessage(receivedEvents[i], events[i]);
        }

        Assert.Contains(events, e => e.Method is "Page.loadEventFired" or "Page.lifecycleEvent");

        // The byte and frame counts are what went over the client's socket after the handshake.
        Assert.Equal(0, closed.GetProperty("relayCloseToClient").GetInt32());
        Assert.Equal(socket.BytesFromClient, closed.GetProperty("bytesFromClient").GetInt64());
        Assert.Equal(socket.BytesToClient, closed.GetProperty("bytesFromRuntime").GetInt64());
        Assert.Equal(socket.FramesFromClient.Count, closed.GetProperty("framesFromClient").GetInt64());
        Assert.Equal(socket.FramesToClient.Count, closed.GetProperty("framesFromRuntime").GetInt64());
        Assert.Equal(traffic.Sent.Count, closed.GetProperty("messagesFromClient").GetInt64());
        Assert.Equal(traffic.Received.Count, closed.GetProperty("messagesFromRuntime").GetInt64());
        var byDomain = closed.GetProperty("commandsByDomain").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        Assert.Equal(
            sent.GroupBy(c => CdpDomains.Of(c.Method!)).ToDictionary(g => g.Key, g => (long)g.Count()),
            byDomain);
        Assert.Equal(closed.GetRawText(), records[^1].Data.GetProperty("attach").GetRawText());
        Assert.Equal("127.0.0.1", closed.GetProperty("clientAddress").GetString());

        // A result with a latency for every command that got one, matched to that command. PuppeteerSharp numbers each
        // session's commands from 1, so ids repeat across sessions: a result answers the command of its id and session.
        var results = records.Where(r => r.Type == "cdp.result").ToArray();
        var answers = traffic.Results.ToArray();
        Assert.Equal(answers.Select(a => a.Id), results.Select(r => r.CdpId));
        var problems = new List<string>();
        for (var i = 0; i < results.Length; i++)
        {
            AssertSameMessage(answers[i], results[i]);
            var command = traffic.Sent.Single(c => c.Id == answers[i].Id && c.SessionId == answers[i].SessionId);
            if (results[i].Method != command.Method || !results[i].Data.TryGetProperty("latencyMs", out var latency) || latency.GetDouble() < 0
                || results[i].Data.GetProperty("error").GetBoolean() != answers[i].IsError)
            {
                problems.Add($"{command}: its result is recorded as {results[i].RawData}");
            }
        }

        Assert.True(problems.Count == 0, $"{problems.Count} of {results.Length} results are not recorded as their command's:\n{string.Join("\n", problems)}");
    }

    /// <summary>A record of a message: its size, and its session unless that lies past the sampled prefix.</summary>
    private static void AssertSameMessage(CdpMessage wire, RecordEvent record)
    {
        var size = System.Text.Encoding.UTF8.GetByteCount(wire.Text);
        Assert.True(size == record.Data.GetProperty("size").GetInt64(), $"{wire}: {size} bytes, recorded {record.RawData}");
        Assert.True(
            record.SessionId == wire.SessionId || (record.SessionId is null && size > PrefixBytes),
            $"{wire} ({size} bytes) recorded with session {record.SessionId ?? "none"}: a message shorter than the prefix must keep its session "
            + "(see SplitMessageTests: one cut by the end of a receive is sampled from its first part only)");
    }
}
