using System.Net.Sockets;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Transport;

/// <summary>
/// Issue 9: a peer that resets its connection (RST) in the middle of a frame's payload. The other leg is mid-frame, so
/// the relay ends its connection rather than write a close into the middle of a frame (README's "How an attach
/// ends"): that peer sees a prefix of what was sent and then the end of the stream. The relay stays healthy, logs no
/// error, and the next attach works.
/// </summary>
public sealed class MidFrameResetTests
{
    private const int FrameBytes = 1024 * 1024;
    private const int SentBeforeReset = 300 * 1024;

    [Fact(Timeout = 30_000)]
    public async Task A_client_that_resets_mid_frame_ends_the_runtimes_connection_and_the_relay_carries_on()
    {
        await using var harness = await TransportHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        var payload = new byte[FrameBytes];
        new Random(51).NextBytes(payload);
        var sent = RawClient.Frame(FakeRuntimeFrame.Binary, payload)[..SentBeforeReset];
        await client.SendRawAsync(sent);

        // The relay is inside the frame towards the runtime before the client goes.
        var first = await runtime.Wire.ReadExactlyAsync(64 * 1024);
        client.Socket.LingerState = new LingerOption(true, 0);
        client.Socket.Close();
        await client.DisposeAsync();

        var rest = await WireBytes.ReadAllAsync(runtime.Wire);
        byte[] received = [.. first, .. rest];
        Assert.True(WireBytes.IsPrefixOf(received, sent),
            $"the runtime got {received.Length} bytes that are not a prefix of the {sent.Length} the client sent (a close written into the frame?)");
        Assert.NotNull(await harness.WaitForLogAsync("closed: ClientGone"));
        await AssertHealthyAsync(harness);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_runtime_that_resets_mid_frame_ends_the_clients_connection_and_the_relay_carries_on()
    {
        await using var harness = await TransportHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        var payload = new byte[FrameBytes];
        new Random(52).NextBytes(payload);
        var sent = FakeRuntimeFrame.Encode(FakeRuntimeFrame.Binary, payload)[..SentBeforeReset];
        await runtime.SendRawAsync(sent);

        var first = await client.Wire.ReadExactlyAsync(64 * 1024);
        runtime.Reset();

        var rest = await WireBytes.ReadAllAsync(client.Wire);
        byte[] received = [.. first, .. rest];
        Assert.True(WireBytes.IsPrefixOf(received, sent),
            $"the client got {received.Length} bytes that are not a prefix of the {sent.Length} the runtime sent (a close written into the frame?)");
        Assert.NotNull(await harness.WaitForLogAsync("closed: RuntimeGone"));
        await AssertHealthyAsync(harness);
    }

    /// <summary>Health answers, no error was logged, and a new attach carries frames both ways.</summary>
    private static async Task AssertHealthyAsync(SpliceHarness harness)
    {
        using (var health = await harness.Relay.Http.GetAsync("healthz"))
        {
            Assert.True(health.IsSuccessStatusCode, $"healthz answered {(int)health.StatusCode}");
        }

        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        await TransportHarness.AssertRoundTripAsync(client, runtime, "a new attach after the reset");
        Assert.Equal((1, 2), await harness.WaitForAttachCountsAsync(1, 2));
        var errors = harness.Relay.Logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal)).ToArray();
        Assert.True(errors.Length == 0, string.Join('\n', errors));
    }
}
