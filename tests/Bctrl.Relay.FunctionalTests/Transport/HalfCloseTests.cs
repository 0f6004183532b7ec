using System.Net.Sockets;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Transport;

/// <summary>
/// Issue 9: a peer that half-closes. A peer may end its side of TCP (shutdown of its writes) right after its close
/// frame and still read: it waits for the answer to its close, as RFC 6455 §7.1.1 describes for a client and §5.5.1 for
/// either side. Its end of stream is not the end of the attach: the other peer's answer, and any data it sent before
/// the answer, must still reach it, and then both connections end.
/// </summary>
public sealed class HalfCloseTests
{
    /// <remarks>
    /// On the relay transport only, whatever RELAY_TEST_TRANSPORT says: Kestrel's Sockets transport ends an upgraded
    /// connection when its client half-closes, before the runtime's answer can reach it (README, <c>Relay:Transport</c>).
    /// </remarks>
    [Fact(Timeout = 30_000)]
    public async Task A_client_that_half_closes_after_its_close_frame_still_gets_the_runtimes_answer()
    {
        await using var harness = await TransportHarness.StartAsync(new Dictionary<string, string?> { ["Relay:Transport"] = "Relay" });
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        await client.SendCloseAsync(1000, "done");
        client.Socket.Shutdown(SocketShutdown.Send);

        var forwarded = await runtime.ReadFrameAsync();
        Assert.Equal((FakeRuntimeFrame.Close, true, (ushort)1000, "done"), (forwarded.Opcode, forwarded.Masked, forwarded.CloseCode, forwarded.CloseReason));

        // The runtime takes a moment, sends what it still had to say, then answers the close and ends TCP as a server does.
        await Task.Delay(300);
        var late = FakeRuntimeFrame.Encode(FakeRuntimeFrame.Text, """{"method":"Target.detachedFromTarget","params":{}}"""u8.ToArray());
        var answer = FakeRuntimeFrame.Encode(FakeRuntimeFrame.Close, FakeRuntimeFrame.ClosePayload(1000, "done"));
        await runtime.SendRawAsync([.. late, .. answer]);
        runtime.Drop();

        WireBytes.AssertSame([.. late, .. answer], await client.Wire.ReadExactlyAsync(late.Length + answer.Length), "what the half-closed client got");
        Assert.Equal(0, await client.ReadToEndAsync());
        Assert.NotNull(await harness.WaitForLogAsync("closed: ClientClosed"));
        Assert.Equal((0, 1), await harness.WaitForAttachCountsAsync(0, 1));
    }

    /// <remarks>
    /// The end of the client's stream arrives while the relay is still dialing the runtime, before the upgrade: the
    /// transport must keep it for the splice rather than end the request (relay transport only, as above).
    /// </remarks>
    [Fact(Timeout = 30_000)]
    public async Task A_client_that_sends_its_upgrade_its_close_frame_and_its_end_of_stream_at_once_still_gets_the_runtimes_answer()
    {
        await using var harness = await TransportHarness.StartAsync(new Dictionary<string, string?> { ["Relay:Transport"] = "Relay" });
        await using var client = await RawClient.ConnectAsync(harness.Endpoint);
        var close = RawClient.Frame(FakeRuntimeFrame.Close, FakeRuntimeFrame.ClosePayload(1000, "done"));

        await client.SendUpgradeAsync(behind: close);
        client.Socket.Shutdown(SocketShutdown.Send);

        var response = await client.ReadResponseAsync();
        Assert.True(response.Status == 101, $"expected 101, got {response.Head}{response.Body}");
        var runtime = await harness.Runtime.NextConnectionAsync();
        WireBytes.AssertSame(close, await runtime.Wire.ReadExactlyAsync(close.Length), "the close frame behind the request");

        var answer = FakeRuntimeFrame.Encode(FakeRuntimeFrame.Close, FakeRuntimeFrame.ClosePayload(1000, "done"));
        await runtime.SendRawAsync(answer);
        runtime.Drop();

        WireBytes.AssertSame(answer, await client.Wire.ReadExactlyAsync(answer.Length), "what the half-closed client got");
        Assert.Equal(0, await client.ReadToEndAsync());
        Assert.Equal((0, 1), await harness.WaitForAttachCountsAsync(0, 1));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_runtime_that_half_closes_after_its_close_frame_still_gets_the_clients_answer()
    {
        await using var harness = await TransportHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        await runtime.SendCloseAsync(1001, "bye");
        runtime.Socket.Shutdown(SocketShutdown.Send);

        var forwarded = await client.ReadFrameAsync();
        Assert.Equal((FakeRuntimeFrame.Close, false, (ushort)1001, "bye"), (forwarded.Opcode, forwarded.Masked, forwarded.CloseCode, forwarded.CloseReason));

        // The client finishes its message, then answers the close.
        await Task.Delay(300);
        var late = RawClient.Frame(FakeRuntimeFrame.Text, """{"id":9,"method":"Browser.close"}"""u8.ToArray());
        var answer = RawClient.Frame(FakeRuntimeFrame.Close, FakeRuntimeFrame.ClosePayload(1001));
        await client.SendRawAsync([.. late, .. answer]);

        WireBytes.AssertSame([.. late, .. answer], await runtime.Wire.ReadExactlyAsync(late.Length + answer.Length), "what the half-closed runtime got");
        Assert.Equal(0, await runtime.ReadToEndAsync());
        Assert.Equal(0, await client.ReadToEndAsync());
        Assert.NotNull(await harness.WaitForLogAsync("closed: RuntimeClosed"));
        Assert.Equal((0, 1), await harness.WaitForAttachCountsAsync(0, 1));
    }
}
