using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Splice;

/// <summary>docs/design.md §4 items 3 and 5: what the header-only tracker refuses, and the close each leg then gets.</summary>
public sealed class ProtocolViolationTests
{
    public static TheoryData<string, byte[]> ClientViolations => new()
    {
        { "reserved bit", RawClient.Frame(FakeRuntimeFrame.Text, "x"u8.ToArray(), rsv: 0b100) },
        { "unmasked", RawClient.Frame(FakeRuntimeFrame.Text, "x"u8.ToArray(), mask: false) },
        { "control frame over 125 bytes", RawClient.Frame(FakeRuntimeFrame.Ping, new byte[126]) },
        { "fragmented control frame", RawClient.Frame(FakeRuntimeFrame.Ping, "p"u8.ToArray(), fin: false) },
        { "unknown opcode", RawClient.Frame(0x3, "x"u8.ToArray()) },
        { "continuation without a message", RawClient.Frame(FakeRuntimeFrame.Continuation, "x"u8.ToArray()) },
        { "length top bit", FakeRuntimeFrame.Encode(FakeRuntimeFrame.Binary, [], mask: true, declaredLength: 0x8000_0000_0000_0000UL) },
    };

    public static TheoryData<string, byte[]> RuntimeViolations => new()
    {
        { "masked", FakeRuntimeFrame.Encode(FakeRuntimeFrame.Text, "x"u8.ToArray(), mask: true) },
        { "unknown opcode", FakeRuntimeFrame.Encode(0xB, "x"u8.ToArray()) },
        { "reserved bit", FakeRuntimeFrame.Encode(FakeRuntimeFrame.Binary, "x"u8.ToArray(), rsv: 0b001) },
    };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(ClientViolations))]
    public async Task A_malformed_client_frame_closes_the_client_with_1002_and_the_runtime_with_1001(string violation, byte[] frame)
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        var good = RawClient.Frame(FakeRuntimeFrame.Text, "before"u8.ToArray());

        // A good frame and the bad one in one write: the good one passes, nothing of the bad one does.
        await client.SendRawAsync([.. good, .. frame]);

        var close = await client.ExpectCloseAndAnswerAsync();
        Assert.Equal(1002, close.CloseCode);
        Assert.False(close.Masked, violation);
        Assert.Equal(good, await runtime.Wire.ReadExactlyAsync(good.Length));
        var runtimeClose = await runtime.ReadFrameAsync();
        Assert.Equal(FakeRuntimeFrame.Close, runtimeClose.Opcode);
        Assert.True(runtimeClose.Masked);
        Assert.Equal(1001, runtimeClose.CloseCode);
        Assert.Equal(0, await runtime.ReadToEndAsync());
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(RuntimeViolations))]
    public async Task A_malformed_runtime_frame_closes_the_runtime_with_1002_and_the_client_with_1014(string violation, byte[] frame)
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        var good = FakeRuntimeFrame.Encode(FakeRuntimeFrame.Text, "before"u8.ToArray());

        await runtime.SendRawAsync([.. good, .. frame]);

        Assert.Equal(good, await client.Wire.ReadExactlyAsync(good.Length));
        var close = await client.ExpectCloseAndAnswerAsync();
        Assert.Equal(1014, close.CloseCode);
        var runtimeClose = await runtime.ReadFrameAsync();
        Assert.Equal(FakeRuntimeFrame.Close, runtimeClose.Opcode);
        Assert.True(runtimeClose.Masked, violation);
        Assert.Equal(1002, runtimeClose.CloseCode);
        Assert.Equal(0, await runtime.ReadToEndAsync());
    }

    [Theory(Timeout = 30_000)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public async Task No_byte_of_a_malformed_client_header_cut_across_two_receive_blocks_reaches_the_runtime(int bytesBeforeTheCut)
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();

        // Kestrel receives into 4 KiB blocks, and the first write after the upgrade starts a fresh one: a filler frame
        // of 4096 - k bytes puts the first k bytes of the malformed header (6 bytes: 2, then the mask) in one block and
        // the rest in the next, so the tracker sees the header's start in one segment and its verdict in the next.
        var filler = RawClient.Frame(FakeRuntimeFrame.Binary, new byte[4096 - bytesBeforeTheCut - 8]);
        var bad = RawClient.Frame(FakeRuntimeFrame.Text, "x"u8.ToArray(), rsv: 0b100);
        await client.SendRawAsync([.. filler, .. bad]);

        var close = await client.ReadFrameAsync();
        Assert.Equal(1002, close.CloseCode);
        await client.SendCloseAsync(1002);
        await client.DisposeAsync();
        Assert.Equal(filler, await runtime.Wire.ReadExactlyAsync(filler.Length));
        var runtimeClose = await runtime.ReadFrameAsync();
        Assert.Equal(FakeRuntimeFrame.Close, runtimeClose.Opcode);
        Assert.Equal(0, runtimeClose.Rsv);
        Assert.Equal(1001, runtimeClose.CloseCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_runtime_hears_of_a_client_protocol_error_without_waiting_for_the_clients_answer()
    {
        await using var harness = await SpliceHarness.StartAsync(new Dictionary<string, string?> { ["Relay:Limits:CloseTimeout"] = "00:00:05" });
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        await client.SendRawAsync(RawClient.Frame(FakeRuntimeFrame.Text, "x"u8.ToArray(), mask: false));
        Assert.Equal(1002, (await client.ReadFrameAsync()).CloseCode);
        var clientClosedAt = DateTime.UtcNow;

        // The client neither answers nor leaves: the relay may linger on it for the close timeout, the runtime must not wait.
        var runtimeClose = await runtime.ReadFrameAsync();
        Assert.Equal(1001, runtimeClose.CloseCode);
        Assert.InRange(DateTime.UtcNow - clientClosedAt, TimeSpan.Zero, TimeSpan.FromSeconds(2));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_client_message_over_the_limit_closes_with_1009()
    {
        await using var harness = await SpliceHarness.StartAsync(new Dictionary<string, string?> { ["Relay:Limits:MaxMessageBytes"] = "4096" });
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        // 4096 bytes is allowed, in fragments; one more byte in the next message is not.
        await client.SendFrameAsync(FakeRuntimeFrame.Binary, new byte[2048], fin: false);
        await client.SendFrameAsync(FakeRuntimeFrame.Continuation, new byte[2048]);
        Assert.Equal(2048, (await runtime.ReadFrameAsync()).Payload.Length);
        Assert.Equal(2048, (await runtime.ReadFrameAsync()).Payload.Length);
        await client.SendFrameAsync(FakeRuntimeFrame.Binary, new byte[3000], fin: false);
        await client.SendFrameAsync(FakeRuntimeFrame.Continuation, new byte[1097]);

        var close = await client.ExpectCloseAndAnswerAsync();
        Assert.Equal(1009, close.CloseCode);
        Assert.Equal(3000, (await runtime.ReadFrameAsync()).Payload.Length);
        var runtimeClose = await runtime.ReadFrameAsync();
        Assert.Equal(FakeRuntimeFrame.Close, runtimeClose.Opcode);
        Assert.Equal(1001, runtimeClose.CloseCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_runtime_message_over_the_limit_closes_both_with_1009()
    {
        await using var harness = await SpliceHarness.StartAsync(new Dictionary<string, string?> { ["Relay:Limits:MaxMessageBytes"] = "4096" });
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        await runtime.SendFrameAsync(FakeRuntimeFrame.Text, new byte[4097]);

        var close = await client.ExpectCloseAndAnswerAsync();
        Assert.Equal(1009, close.CloseCode);
        var runtimeClose = await runtime.ReadFrameAsync();
        Assert.Equal(1009, runtimeClose.CloseCode);
        Assert.True(runtimeClose.Masked);
    }
}
