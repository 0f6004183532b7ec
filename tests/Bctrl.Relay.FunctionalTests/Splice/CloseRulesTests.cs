using System.Buffers.Binary;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Splice;

/// <summary>
/// Issue 8 finding 6: RFC 6455 close and framing rules, both ways. A close code an endpoint may not send (§7.4), a
/// non-minimal length (§5.2) and anything after a close (§5.5.1) are protocol errors that are never forwarded, and the
/// relay never sends a leg a second close.
/// </summary>
public sealed class CloseRulesTests
{
    /// <summary>§7.4.1: 1005 and 1006 are never sent; 0-999 are unused; 1016-2999 are reserved; nothing past 4999.</summary>
    public static TheoryData<int> ForbiddenCodes => new() { 1005, 1006, 0, 999, 2999, 5000 };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(ForbiddenCodes))]
    public async Task A_client_close_with_a_forbidden_code_gets_1002_and_never_reaches_the_runtime(int code)
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        var good = RawClient.Frame(FakeRuntimeFrame.Text, "before"u8.ToArray());

        await client.SendRawAsync([.. good, .. RawClient.Frame(FakeRuntimeFrame.Close, FakeRuntimeFrame.ClosePayload((ushort)code, "bad"))]);

        var close = await client.ExpectCloseAndAnswerAsync();
        Assert.Equal(1002, close.CloseCode);
        Assert.Equal("invalid close code", close.CloseReason);
        Assert.Equal(good, await runtime.Wire.ReadExactlyAsync(good.Length));
        var runtimeClose = await runtime.ReadFrameAsync();
        Assert.Equal((FakeRuntimeFrame.Close, (ushort)1001, "client protocol error"), (runtimeClose.Opcode, runtimeClose.CloseCode, runtimeClose.CloseReason));
        Assert.Equal(0, await runtime.ReadToEndAsync());
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(ForbiddenCodes))]
    public async Task A_runtime_close_with_a_forbidden_code_gets_1002_and_the_client_1014(int code)
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        var good = FakeRuntimeFrame.Encode(FakeRuntimeFrame.Text, "before"u8.ToArray());

        await runtime.SendRawAsync([.. good, .. FakeRuntimeFrame.Encode(FakeRuntimeFrame.Close, FakeRuntimeFrame.ClosePayload((ushort)code, "bad"))]);

        Assert.Equal(good, await client.Wire.ReadExactlyAsync(good.Length));
        var close = await client.ExpectCloseAndAnswerAsync();
        Assert.Equal((ushort)1014, close.CloseCode);
        var runtimeClose = await runtime.ReadFrameAsync();
        Assert.Equal((FakeRuntimeFrame.Close, true, (ushort)1002, "invalid close code"), (runtimeClose.Opcode, runtimeClose.Masked, runtimeClose.CloseCode, runtimeClose.CloseReason));
        Assert.Equal(0, await runtime.ReadToEndAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task A_client_close_reason_that_is_not_UTF8_gets_1002()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        await client.SendFrameAsync(FakeRuntimeFrame.Close, [0x03, 0xE8, 0x6F, 0xFF]);

        var close = await client.ExpectCloseAndAnswerAsync();
        Assert.Equal(1002, close.CloseCode);
        Assert.Equal("close reason is not UTF-8", close.CloseReason);
        Assert.Equal(1001, (await runtime.ReadFrameAsync()).CloseCode);
        Assert.Equal(0, await runtime.ReadToEndAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task A_non_minimal_client_length_gets_1002_and_is_not_forwarded()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        // "x" with its length in the 16-bit form.
        await client.SendRawAsync(NonMinimal(masked: true));

        var close = await client.ExpectCloseAndAnswerAsync();
        Assert.Equal(1002, close.CloseCode);
        Assert.Equal("non-minimal length", close.CloseReason);
        var runtimeClose = await runtime.ReadFrameAsync();
        Assert.Equal((FakeRuntimeFrame.Close, (ushort)1001), (runtimeClose.Opcode, runtimeClose.CloseCode));
        Assert.Equal(0, await runtime.ReadToEndAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task A_non_minimal_runtime_length_gets_1002_and_the_client_1014()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        await runtime.SendRawAsync(NonMinimal(masked: false));

        var close = await client.ExpectCloseAndAnswerAsync();
        Assert.Equal(1014, close.CloseCode);
        var runtimeClose = await runtime.ReadFrameAsync();
        Assert.Equal((FakeRuntimeFrame.Close, (ushort)1002, "non-minimal length"), (runtimeClose.Opcode, runtimeClose.CloseCode, runtimeClose.CloseReason));
        Assert.Equal(0, await runtime.ReadToEndAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task Client_data_after_its_close_is_not_forwarded_and_the_runtime_gets_no_second_close()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        await client.SendRawAsync([
            .. RawClient.Frame(FakeRuntimeFrame.Close, FakeRuntimeFrame.ClosePayload(1000, "done")),
            .. RawClient.Frame(FakeRuntimeFrame.Text, "after"u8.ToArray())]);

        // The client's close is the runtime's last frame: no text after it, and no close of the relay's own.
        var forwarded = await runtime.ReadFrameAsync();
        Assert.Equal((FakeRuntimeFrame.Close, (ushort)1000, "done"), (forwarded.Opcode, forwarded.CloseCode, forwarded.CloseReason));
        Assert.Equal(0, await runtime.ReadToEndAsync());

        // The runtime never answered, so the relay's close is the client's answer.
        var close = await client.ExpectCloseAndAnswerAsync();
        Assert.Equal((ushort)1002, close.CloseCode);
        Assert.Equal("data after close", close.CloseReason);
    }

    [Fact(Timeout = 30_000)]
    public async Task Runtime_data_after_its_close_is_not_forwarded_and_the_client_gets_no_second_close()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        await runtime.SendRawAsync([
            .. FakeRuntimeFrame.Encode(FakeRuntimeFrame.Close, FakeRuntimeFrame.ClosePayload(1001, "bye")),
            .. FakeRuntimeFrame.Encode(FakeRuntimeFrame.Binary, "after"u8.ToArray())]);

        var forwarded = await client.ReadFrameAsync();
        Assert.Equal((FakeRuntimeFrame.Close, (ushort)1001, "bye"), (forwarded.Opcode, forwarded.CloseCode, forwarded.CloseReason));
        Assert.Equal(0, await client.ReadToEndAsync());
        var runtimeClose = await runtime.ReadFrameAsync();
        Assert.Equal((FakeRuntimeFrame.Close, (ushort)1002, "data after close"), (runtimeClose.Opcode, runtimeClose.CloseCode, runtimeClose.CloseReason));
        Assert.Equal(0, await runtime.ReadToEndAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task A_runtime_that_got_the_clients_close_gets_no_close_of_the_relays_when_it_then_breaks_the_protocol()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        await client.SendCloseAsync(1000, "done");
        Assert.Equal(1000, (await runtime.ReadFrameAsync()).CloseCode);
        await runtime.SendRawAsync(FakeRuntimeFrame.Encode(FakeRuntimeFrame.Text, "x"u8.ToArray(), mask: true));

        // The client's close was never answered: the relay answers it (1014); the runtime has had its close already.
        var close = await client.ReadFrameAsync();
        Assert.Equal((FakeRuntimeFrame.Close, (ushort)1014), (close.Opcode, close.CloseCode));
        Assert.Equal(0, await runtime.ReadToEndAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task A_client_that_got_the_runtimes_close_gets_no_close_of_the_relays_when_it_then_breaks_the_protocol()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        await runtime.SendCloseAsync(1001, "going");
        Assert.Equal(1001, (await client.ReadFrameAsync()).CloseCode);
        await client.SendFrameAsync(FakeRuntimeFrame.Text, "x"u8.ToArray(), mask: false);

        Assert.Equal(0, await client.ReadToEndAsync());
        var runtimeClose = await runtime.ReadFrameAsync();
        Assert.Equal((FakeRuntimeFrame.Close, (ushort)1001, "client protocol error"), (runtimeClose.Opcode, runtimeClose.CloseCode, runtimeClose.CloseReason));
        Assert.Equal(0, await runtime.ReadToEndAsync());
    }

    /// <summary>A FIN text frame carrying "x" with its length in the 16-bit form (§5.2 asks for the 7-bit one).</summary>
    private static byte[] NonMinimal(bool masked)
    {
        var frame = new byte[4 + (masked ? 4 : 0) + 1];
        frame[0] = 0x80 | FakeRuntimeFrame.Text;
        frame[1] = (byte)((masked ? 0x80 : 0) | 126);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), 1);
        frame[^1] = (byte)'x'; // a zero masking key leaves the payload as it is
        return frame;
    }
}
