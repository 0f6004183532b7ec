using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Splice;

/// <summary>
/// Issue 8, finding 7: a runtime that stops reading is blamed on the runtime. While the relay's send to it is blocked
/// the relay cannot read the client either, so the client's answers to keep-alive pings sit unread behind its data;
/// the attach must end as <c>RuntimeStalled</c> (4003) at the stall timeout, not as a client keep-alive timeout.
/// </summary>
public sealed class FrozenRuntimeTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_runtime_that_stops_reading_ends_as_runtime_stalled_even_with_keep_alive_shorter_than_the_stall_timeout()
    {
        await using var harness = await SpliceHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:KeepAlive:Interval"] = "00:00:00.5",
            ["Relay:KeepAlive:Timeout"] = "00:00:01",
            ["Relay:Limits:StallTimeout"] = "00:00:04",
        });
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        await using var __ = runtime;

        // The runtime reads nothing from here on; the client sends 64 MiB, so the runtime's socket buffers fill, the
        // relay's send waits, and the client's own send then waits on the relay.
        var flood = Task.Run(async () =>
        {
            try
            {
                await client.SendRawAsync(RawClient.Frame(FakeRuntimeFrame.Binary, new byte[64 * 1024 * 1024]));
            }
            catch (IOException)
            {
                // The relay ended the connection under the write.
            }
        });

        var started = DateTime.UtcNow;
        var frame = await client.ReadFrameAsync();
        while (frame.Opcode == FakeRuntimeFrame.Ping)
        {
            frame = await client.ReadFrameAsync();
        }

        Assert.Equal(FakeRuntimeFrame.Close, frame.Opcode);
        Assert.Equal(4003, frame.CloseCode);
        Assert.Equal("runtime stalled", frame.CloseReason);
        // The stall timeout (4 s), not the keep-alive timeout (about 1.5 s after the attach).
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(3), $"closed after {DateTime.UtcNow - started}");
        Assert.NotNull(await harness.WaitForLogAsync("closed: RuntimeStalled"));
        await flood.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
