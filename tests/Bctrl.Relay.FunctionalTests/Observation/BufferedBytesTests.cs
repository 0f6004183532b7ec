using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Observation;

/// <summary>
/// docs/design.md §7 "buffered bytes": a client that stops reading makes the relay hold runtime bytes behind a blocked flush,
/// and <c>bctrl_relay_buffered_bytes{direction="runtime_to_client"}</c> shows it; once the attach ends it is 0 again.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class BufferedBytesTests
{
    [Fact(Timeout = 30_000)]
    public async Task Bytes_held_for_a_client_that_stops_reading_show_as_buffered_and_go_back_to_zero()
    {
        await using var rig = await ObservationRig.StartAsync(new Dictionary<string, string?> { ["Relay:Limits:StallTimeout"] = "00:00:03" });
        var lease = await rig.CreateLeaseAsync();
        var (client, runtime) = await rig.AttachAsync(lease);
        await using var clientScope = client;

        // 64 MiB towards a client that reads nothing: the socket buffers fill, then the relay's flush waits.
        var flood = Task.Run(async () =>
        {
            try
            {
                await runtime.SendRawAsync(FakeRuntimeFrame.Encode(FakeRuntimeFrame.Binary, new byte[64 * 1024 * 1024]));
            }
            catch (IOException)
            {
                // The relay ended the connection under the write (stall timeout).
            }
        });

        var held = await rig.ScrapeUntilAsync(
            m => m.Sum("bctrl_relay_buffered_bytes", ("direction", "runtime_to_client")) > 0, "bytes held for the client");
        Assert.Equal("gauge", held.FamilyTypes["bctrl_relay_buffered_bytes"]);

        await rig.ScrapeUntilAsync(
            m => m.Sum("bctrl_relay_attach_live") == 0 && m.Sum("bctrl_relay_buffered_bytes") == 0, "the stalled attach closed and nothing held");
        await flood;
    }
}
