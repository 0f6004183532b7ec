using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Splice;

/// <summary>docs/design.md §4 item 3: frames pass as they are, control frames inside fragmented messages included, and so does the close handshake.</summary>
public sealed class PassThroughTests
{
    [Fact(Timeout = 30_000)]
    public async Task Pings_inside_a_fragmented_client_message_reach_the_runtime_in_order_and_unchanged()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        byte[] stream =
        [
            .. RawClient.Frame(FakeRuntimeFrame.Text, "{\"id\":1,"u8.ToArray(), fin: false),
            .. RawClient.Frame(FakeRuntimeFrame.Ping, "client-ping-1"u8.ToArray()),
            .. RawClient.Frame(FakeRuntimeFrame.Continuation, "\"method\":"u8.ToArray(), fin: false),
            .. RawClient.Frame(FakeRuntimeFrame.Pong, "unsolicited"u8.ToArray()),
            .. RawClient.Frame(FakeRuntimeFrame.Ping, []),
            .. RawClient.Frame(FakeRuntimeFrame.Continuation, "\"Browser.getVersion\"}"u8.ToArray()),
        ];

        // One write, and then the same bytes one at a time (every header cut at every point).
        await client.SendRawAsync(stream);
        Assert.Equal(stream, await runtime.Wire.ReadExactlyAsync(stream.Length));
        foreach (var b in stream)
        {
            await client.SendRawAsync([b]);
        }

        Assert.Equal(stream, await runtime.Wire.ReadExactlyAsync(stream.Length));
    }

    [Fact(Timeout = 30_000)]
    public async Task Pings_inside_a_fragmented_runtime_message_reach_the_client_in_order_and_unchanged()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        byte[] stream =
        [
            .. FakeRuntimeFrame.Encode(FakeRuntimeFrame.Binary, new byte[5000], fin: false),
            .. FakeRuntimeFrame.Encode(FakeRuntimeFrame.Ping, "runtime-ping-1"u8.ToArray()),
            .. FakeRuntimeFrame.Encode(FakeRuntimeFrame.Continuation, "middle"u8.ToArray(), fin: false),
            .. FakeRuntimeFrame.Encode(FakeRuntimeFrame.Ping, "runtime-ping-2"u8.ToArray()),
            .. FakeRuntimeFrame.Encode(FakeRuntimeFrame.Pong, []),
            .. FakeRuntimeFrame.Encode(FakeRuntimeFrame.Continuation, "end"u8.ToArray()),
        ];

        await runtime.SendRawAsync(stream);
        Assert.Equal(stream, await client.Wire.ReadExactlyAsync(stream.Length));
        foreach (var b in stream)
        {
            await runtime.SendRawAsync([b]);
        }

        Assert.Equal(stream, await client.Wire.ReadExactlyAsync(stream.Length));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_client_close_passes_through_and_the_runtime_close_comes_back_unchanged()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        var clientClose = RawClient.Frame(FakeRuntimeFrame.Close, FakeRuntimeFrame.ClosePayload(1000, "done, thanks ✓"));

        await client.SendRawAsync(clientClose);

        Assert.Equal(clientClose, await runtime.Wire.ReadExactlyAsync(clientClose.Length));
        var runtimeClose = FakeRuntimeFrame.Encode(FakeRuntimeFrame.Close, FakeRuntimeFrame.ClosePayload(1000, "bye from the runtime"));
        await runtime.SendRawAsync(runtimeClose);
        runtime.Drop();
        Assert.Equal(runtimeClose, await client.Wire.ReadExactlyAsync(runtimeClose.Length));
        Assert.Equal(0, await client.ReadToEndAsync());

        Assert.NotNull(await harness.WaitForLogAsync("closed: ClientClosed"));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_runtime_close_passes_through_with_its_own_code()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        await runtime.SendCloseAsync(4321, "runtime shutting this target");

        var close = await client.ReadFrameAsync();
        Assert.Equal(4321, close.CloseCode);
        Assert.Equal("runtime shutting this target", close.CloseReason);
        await client.SendCloseAsync(4321);
        var answer = await runtime.ReadFrameAsync();
        Assert.Equal(4321, answer.CloseCode);
        runtime.Drop();
        Assert.Equal(0, await client.ReadToEndAsync());
    }
}
