using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Transport;

/// <summary>
/// Issue 9: on an upgrade the transport hands the socket over together with any bytes it already read, since a client
/// may send its first frame in the same packet as its upgrade request. Whatever came behind the request, the runtime
/// must receive exactly (client frames pass as they came, masked, docs/design.md §4 item 3), and the splice must carry
/// on from there both ways.
/// </summary>
public sealed class PipelinedFrameTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_masked_text_frame_in_the_same_send_as_the_upgrade_request_reaches_the_runtime_exact()
    {
        await using var harness = await TransportHarness.StartAsync();
        await using var client = await RawClient.ConnectAsync(harness.Endpoint);
        var payload = """{"id":1,"method":"Browser.getVersion"}"""u8.ToArray();
        var frame = RawClient.Frame(FakeRuntimeFrame.Text, payload);

        // One write of the request and the frame together: one send.
        await client.SendUpgradeAsync(behind: frame);

        var response = await client.ReadResponseAsync();
        Assert.True(response.Status == 101, $"expected 101, got {response.Head}{response.Body}");
        var runtime = await harness.Runtime.NextConnectionAsync();
        var received = await runtime.Wire.ReadExactlyAsync(frame.Length);
        WireBytes.AssertSame(frame, received, "the pipelined frame, as the runtime received it");
        var unmasked = await new FakeRuntimeWire(new MemoryStream(received)).ReadFrameAsync();
        Assert.Equal((FakeRuntimeFrame.Text, true, true), (unmasked.Opcode, unmasked.Fin, unmasked.Masked));
        Assert.Equal(payload, unmasked.Payload);

        await TransportHarness.AssertRoundTripAsync(client, runtime, "after the pipelined frame");
        Assert.False(harness.Runtime.HasPendingConnection, "a second runtime connection was opened");
    }

    /// <summary>Payload sizes of the frames written behind the request: every length form, and more than any read takes at once.</summary>
    public static TheoryData<int[]> Batches => new()
    {
        { [0] },
        { [125, 126, 65_535, 65_536] },
        { [300_000] },
        { [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16] },
        { [4_089, 4_090, 16_377] },
    };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(Batches))]
    public async Task Several_frames_and_a_ping_in_the_same_send_as_the_upgrade_request_reach_the_runtime_exact(int[] sizes)
    {
        await using var harness = await TransportHarness.StartAsync();
        await using var client = await RawClient.ConnectAsync(harness.Endpoint);
        var random = new Random(sizes.Sum());
        var frames = new List<byte>();
        foreach (var size in sizes)
        {
            var payload = new byte[size];
            random.NextBytes(payload);
            frames.AddRange(WireBytes.Encode(random, FakeRuntimeFrame.Binary, payload, fin: true, masked: true));
        }

        // A ping of the client's own passes through too (only answers to the relay's pings are kept back).
        frames.AddRange(WireBytes.Encode(random, FakeRuntimeFrame.Ping, "client ping"u8.ToArray(), fin: true, masked: true));
        byte[] behind = [.. frames];

        await client.SendUpgradeAsync(behind: behind);

        Assert.Equal(101, (await client.ReadResponseAsync()).Status);
        var runtime = await harness.Runtime.NextConnectionAsync();
        WireBytes.AssertSame(behind, await runtime.Wire.ReadExactlyAsync(behind.Length), "the pipelined frames");
        await TransportHarness.AssertRoundTripAsync(client, runtime, "after the pipelined frames");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_send_that_ends_inside_a_frame_header_behind_the_request_is_completed_by_the_next_send()
    {
        await using var harness = await TransportHarness.StartAsync();
        await using var client = await RawClient.ConnectAsync(harness.Endpoint);
        var whole = RawClient.Frame(FakeRuntimeFrame.Text, "first"u8.ToArray());
        var cut = RawClient.Frame(FakeRuntimeFrame.Binary, new byte[70_000]);

        // A whole frame and the first 5 bytes of a 64-bit-length header (2 + 8 + 4 bytes long) behind the request.
        await client.SendUpgradeAsync(behind: [.. whole, .. cut[..5]]);
        Assert.Equal(101, (await client.ReadResponseAsync()).Status);
        var runtime = await harness.Runtime.NextConnectionAsync();
        Assert.Equal(whole, await runtime.Wire.ReadExactlyAsync(whole.Length));

        await Task.Delay(50);
        await client.SendRawAsync(cut[5..]);

        WireBytes.AssertSame(cut, await runtime.Wire.ReadExactlyAsync(cut.Length), "the frame cut by the first send");
        await TransportHarness.AssertRoundTripAsync(client, runtime, "after the cut frame");
    }
}
