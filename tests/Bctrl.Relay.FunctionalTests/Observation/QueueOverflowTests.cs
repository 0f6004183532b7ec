using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Observation;
using Bctrl.Relay.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bctrl.Relay.FunctionalTests.Observation;

/// <summary>
/// docs/design.md §6: records go through a bounded queue that drops, and counts, when full; the splice never waits on it.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class QueueOverflowTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_burst_past_a_tiny_queue_is_relayed_whole_and_the_drops_are_counted()
    {
        const int Burst = 3000;
        await using var rig = await ObservationRig.StartAsync(new Dictionary<string, string?> { ["Relay:Observation:QueueCapacity"] = "1" });
        rig.Runtime.Echo = true;
        var lease = await rig.CreateLeaseAsync();
        var (client, _) = await rig.AttachAsync(lease);
        await using var clientScope = client;

        // The whole burst in one write, so that the client pump meets thousands of commands in a few reads.
        var frames = Enumerable.Range(1, Burst).Select(i => ObservationRig.Command(i, "Runtime.evaluate", $$$"""{"expression":"{{{i}}}"}""")).ToArray();
        await client.SendRawAsync([.. frames.SelectMany(f => f)]);

        for (var i = 1; i <= Burst; i++)
        {
            var echo = await client.ReadFrameSkippingPingsAsync();
            Assert.Equal(FakeRuntimeFrame.Text, echo.Opcode);
            Assert.Equal($$$"""{"id":{{{i}}},"method":"Runtime.evaluate","params":{"expression":"{{{i}}}"}}""", echo.PayloadText);
        }

        var queue = rig.Relay.Services.GetRequiredService<RecordQueue>();
        Assert.True(queue.Dropped > 0, "a queue of one record took a burst of 6000 records without dropping any");
        var metrics = await rig.ScrapeUntilAsync(m => m.Sum("bctrl_relay_observation_dropped_total") > 0, "dropped records");

        // The attach's closed record needs room in the queue of one: wait (bounded) until the pump has taken the burst's
        // last record, or the close could come before it and be dropped in turn (the relay transport ends an attach
        // within microseconds of the close handshake).
        var drained = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (queue.Count > 0 && DateTime.UtcNow < drained)
        {
            await Task.Delay(10);
        }

        Assert.Equal(0, queue.Count);

        // What was not dropped was stored, in order, and nothing is both stored and counted as dropped.
        await client.SendCloseAsync(1000);
        await client.ReadFrameSkippingPingsAsync();
        var records = await rig.ReadRecordsUntilAsync(e => e.Type == RecordTypes.AttachClosed);
        var commandIds = records.Where(e => e.Type == RecordTypes.CdpCommand).Select(e => e.CdpId!.Value).ToArray();
        Assert.Equal(commandIds.Order(), commandIds);
        var dropped = queue.Dropped;
        Assert.InRange(records.Count + dropped, 2, 1 + (2 * Burst) + 1);
        Assert.True(metrics.Sum("bctrl_relay_observation_dropped_total") <= dropped);
    }
}
