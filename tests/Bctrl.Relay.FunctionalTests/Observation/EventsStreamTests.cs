using System.Net;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Observation;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Observation;

/// <summary>
/// Issue 4, read side: <c>GET /v1/runtimes/{id}/events</c> as Server-Sent Events, resumable with <c>Last-Event-ID</c>
/// and filterable by connection and record type.
/// </summary>
public sealed class EventsStreamTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_reader_that_reconnects_with_Last_Event_ID_gets_every_record_once_in_order()
    {
        await using var rig = await ObservationRig.StartAsync();
        var lease = await rig.CreateLeaseAsync();
        var (client, runtime) = await rig.AttachAsync(lease);
        await using var clientScope = client;
        var responder = ObservationRig.RespondAsync(runtime);
        var nextId = 1;

        async Task SendCommandsAsync(int count)
        {
            for (var i = 0; i < count; i++, nextId++)
            {
                await client.SendRawAsync(ObservationRig.Command(nextId, nextId % 3 == 0 ? "Runtime.evaluate" : "Page.navigate", $$$"""{"n":{{{nextId}}}}"""));
                await client.ReadFrameSkippingPingsAsync(); // the event
                await client.ReadFrameSkippingPingsAsync(); // the result
            }
        }

        // Reader 1 sees the start, then goes away in the middle of a run of records.
        var seen = new List<SseEvent>();
        await SendCommandsAsync(20);
        await using (var first = await rig.OpenEventsAsync())
        {
            seen.AddRange(await first.ReadManyAsync(25));
        }

        // Records pile up while no one reads, and the reader comes back several times, each time reading a few.
        await SendCommandsAsync(20);
        for (var round = 0; round < 5; round++)
        {
            await using var again = await rig.OpenEventsAsync(lastEventId: seen[^1].Id);
            seen.AddRange(await again.ReadManyAsync(7 + round));
            await SendCommandsAsync(3);
        }

        // The last reader stays until the attach has closed.
        await using (var last = await rig.OpenEventsAsync(lastEventId: seen[^1].Id))
        {
            await client.SendCloseAsync(1000, "done");
            seen.AddRange(await last.ReadUntilAsync(e => e.Type == RecordTypes.AttachClosed));
        }

        await responder;
        var all = await rig.ReadRecordsUntilAsync(e => e.Type == RecordTypes.AttachClosed);

        const int Commands = 20 + 20 + (5 * 3);
        Assert.Equal(1 + (3 * Commands) + 1, all.Count);
        Assert.Equal(all.Select(e => e.ToString()), seen.Select(e => e.ToString()));
        Assert.Equal(all.Count, all.Select(e => e.Id).Distinct().Count());
        Assert.Equal(Enumerable.Range(1, Commands).Select(i => (long?)i), all.Where(e => e.Type == RecordTypes.CdpCommand).Select(e => e.CdpId));
        Assert.Equal(Enumerable.Range(1, Commands).Select(i => (long?)i), all.Where(e => e.Type == RecordTypes.CdpResult).Select(e => e.CdpId));
        Assert.Equal(RecordTypes.AttachOpened, all[0].Type);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_reader_resuming_at_the_newest_record_waits_for_the_next_one()
    {
        await using var rig = await ObservationRig.StartAsync();
        var lease = await rig.CreateLeaseAsync();
        var (client, runtime) = await rig.AttachAsync(lease);
        await using var clientScope = client;
        var responder = ObservationRig.RespondAsync(runtime, eventEach: false);
        await client.SendRawAsync(ObservationRig.Command(1, "Page.enable"));
        await client.ReadFrameSkippingPingsAsync();
        var before = await rig.ReadRecordsUntilAsync(e => e.Type == RecordTypes.CdpResult);

        await using var reader = await rig.OpenEventsAsync(lastEventId: before[^1].Id);
        Assert.Equal("text/event-stream", reader.Response.Content.Headers.ContentType?.MediaType);
        await Assert.ThrowsAsync<TimeoutException>(() => reader.ReadAsync(TimeSpan.FromMilliseconds(300)));
        await client.SendRawAsync(ObservationRig.Command(2, "DOM.enable"));

        var next = await reader.ReadAsync();
        Assert.Equal(RecordTypes.CdpCommand, next.Type);
        Assert.Equal(2, next.CdpId);
        Assert.Equal("DOM.enable", next.Method);
        await client.SendCloseAsync(1000);
        await responder;
    }

    [Fact(Timeout = 60_000)]
    public async Task Filters_by_connection_and_type_give_exactly_the_matching_records_in_order()
    {
        await using var rig = await ObservationRig.StartAsync();
        var a = await rig.CreateLeaseAsync();
        var b = await rig.CreateLeaseAsync();
        var (clientA, runtimeA) = await rig.AttachAsync(a);
        await using var _ = clientA;
        var (clientB, runtimeB) = await rig.AttachAsync(b);
        await using var __ = clientB;
        var responders = new[] { ObservationRig.RespondAsync(runtimeA), ObservationRig.RespondAsync(runtimeB) };
        for (var i = 1; i <= 10; i++)
        {
            await clientA.SendRawAsync(ObservationRig.Command(i, "Page.navigate"));
            await clientB.SendRawAsync(ObservationRig.Command(i, i % 2 == 0 ? "Fail.nothing" : "Runtime.evaluate"));
        }

        for (var i = 0; i < 20; i++)
        {
            await clientA.ReadFrameSkippingPingsAsync();
            await clientB.ReadFrameSkippingPingsAsync();
        }

        await clientB.SendCloseAsync(1000);
        await clientA.SendCloseAsync(1000);
        await Task.WhenAll(responders);
        // Until both attaches' closes: the two handlers end independently, so either close may be recorded last.
        var closed = new HashSet<string?>();
        var all = await rig.ReadRecordsUntilAsync(e => e.Type == RecordTypes.AttachClosed && closed.Add(e.ConnectionId) && closed.Count == 2);

        // Each filtered stream is read up to the last record it should carry; order makes that the end of the match.
        var lastResult = all.Last(e => e.Type == RecordTypes.CdpResult).Id;
        var byConnectionAndTypes = await rig.ReadRecordsUntilAsync(
            e => e.Type == RecordTypes.AttachClosed, $"?connectionId={a.Id}&type=cdp.command,attach.closed");
        var byType = await rig.ReadRecordsUntilAsync(e => e.Id == lastResult, "?type=cdp.result");
        var byConnection = await rig.ReadRecordsUntilAsync(e => e.Type == RecordTypes.AttachClosed, $"?connectionId={b.Id}");

        Assert.Contains(all, e => e.ConnectionId == b.Id);
        Assert.Equal(
            all.Where(e => e.ConnectionId == a.Id && e.Type is RecordTypes.CdpCommand or RecordTypes.AttachClosed).Select(e => e.ToString()),
            byConnectionAndTypes.Select(e => e.ToString()));
        Assert.Equal(11, byConnectionAndTypes.Count);
        Assert.Equal(all.Where(e => e.Type == RecordTypes.CdpResult).Select(e => e.ToString()), byType.Select(e => e.ToString()));
        Assert.Equal(20, byType.Count);
        Assert.Equal(5, byType.Count(e => e.Json.GetProperty("error").GetBoolean()));
        Assert.Equal(all.Where(e => e.ConnectionId == b.Id).Select(e => e.ToString()), byConnection.Select(e => e.ToString()));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("?connectionId=not-a-connection")]
    [InlineData("?connectionId=123")]
    [InlineData("?type=cdp.bogus")]
    [InlineData("?type=cdp.command,attach.nope")]
    [InlineData("?type=CDP.COMMAND")]
    public async Task A_bad_filter_is_a_400(string query)
    {
        await using var rig = await ObservationRig.StartAsync();

        using var response = await rig.Relay.Http.GetAsync($"v1/runtimes/{ObservationRig.RuntimeId}/events{query}");

        await Control.ApiAssert.ErrorAsync(response, 400, "invalid_query");
    }

    [Fact(Timeout = 30_000)]
    public async Task An_unknown_runtime_is_a_404_and_no_control_key_is_a_401()
    {
        await using var rig = await ObservationRig.StartAsync();
        var lease = await rig.CreateLeaseAsync();
        using var anonymous = new HttpClient { BaseAddress = rig.Relay.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
        using var wrongKey = new HttpClient { BaseAddress = rig.Relay.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
        wrongKey.DefaultRequestHeaders.Authorization = new("Bearer", RelayServer.ControlKey + "x");

        using (var unknown = await rig.Relay.Http.GetAsync("v1/runtimes/no-such-runtime/events"))
        {
            await Control.ApiAssert.ErrorAsync(unknown, 404, "runtime_not_found");
        }

        foreach (var http in new[] { anonymous, wrongKey })
        {
            foreach (var path in new[]
            {
                $"v1/runtimes/{ObservationRig.RuntimeId}/events",
                $"v1/runtimes/{ObservationRig.RuntimeId}/events?type=cdp.command",
                $"v1/runtimes/no-such-runtime/events",
                $"v1/runtimes/{ObservationRig.RuntimeId}/connections/{lease.Id}/attaches",
            })
            {
                using var refused = await http.GetAsync(path);
                await Control.ApiAssert.ErrorAsync(refused, 401, "unauthorized");
            }
        }

        // The lease token is no key to the control API.
        using var byToken = new HttpClient { BaseAddress = rig.Relay.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
        byToken.DefaultRequestHeaders.Authorization = new("Bearer", lease.Token);
        using var tokenRefused = await byToken.GetAsync($"v1/runtimes/{ObservationRig.RuntimeId}/events");
        Assert.Equal(HttpStatusCode.Unauthorized, tokenRefused.StatusCode);
    }
}
