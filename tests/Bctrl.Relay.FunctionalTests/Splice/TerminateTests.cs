using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Splice;

/// <summary>docs/design.md §1 and §4 item 5: deleting a lease stops new attaches; <c>terminate=true</c> also cuts the live ones with 4001.</summary>
public sealed class TerminateTests
{
    [Fact(Timeout = 30_000)]
    public async Task Delete_with_terminate_closes_a_live_attach_on_both_legs_with_4001()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        await client.SendFrameAsync(FakeRuntimeFrame.Text, "live"u8.ToArray());
        Assert.Equal("live", (await runtime.ReadFrameAsync()).PayloadText);

        await harness.Relay.DeleteConnectionAsync(SpliceHarness.RuntimeId, harness.ConnectionId, terminate: true);

        var close = await client.ReadFrameSkippingPingsAsync();
        Assert.Equal(FakeRuntimeFrame.Close, close.Opcode);
        Assert.False(close.Masked);
        Assert.Equal(4001, close.CloseCode);
        await client.SendCloseAsync(4001);
        var runtimeClose = await runtime.ReadFrameAsync();
        Assert.Equal(FakeRuntimeFrame.Close, runtimeClose.Opcode);
        Assert.True(runtimeClose.Masked);
        Assert.Equal(4001, runtimeClose.CloseCode);
        Assert.Equal(0, await runtime.ReadToEndAsync());
        Assert.Equal(0, await client.ReadToEndAsync());

        var refused = await harness.AttachRefusedAsync();
        Assert.Equal(401, refused.Status);
        Assert.Equal("lease_revoked", refused.ErrorCode());
    }

    [Fact(Timeout = 30_000)]
    public async Task Delete_without_terminate_keeps_the_live_attach_but_refuses_new_ones_with_401_lease_revoked()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        await harness.Relay.DeleteConnectionAsync(SpliceHarness.RuntimeId, harness.ConnectionId);

        var refused = await harness.AttachRefusedAsync();
        Assert.Equal(401, refused.Status);
        Assert.Equal("lease_revoked", refused.ErrorCode());
        Assert.False(harness.Runtime.HasPendingConnection);
        Assert.Equal(1, harness.Runtime.AcceptedConnections);

        await client.SendFrameAsync(FakeRuntimeFrame.Text, "still relayed"u8.ToArray());
        Assert.Equal("still relayed", (await runtime.ReadFrameAsync()).PayloadText);
        await runtime.SendFrameAsync(FakeRuntimeFrame.Text, "and back"u8.ToArray());
        Assert.Equal("and back", (await client.ReadFrameSkippingPingsAsync()).PayloadText);
    }

    [Fact(Timeout = 30_000)]
    public async Task Terminate_in_the_middle_of_a_client_frame_puts_no_close_inside_its_payload()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        var frame = RawClient.Frame(FakeRuntimeFrame.Binary, new byte[100_000]);
        var sent = frame[..30_000];
        await client.SendRawAsync(sent);
        Assert.Equal(sent, await runtime.Wire.ReadExactlyAsync(sent.Length));

        await harness.Relay.DeleteConnectionAsync(SpliceHarness.RuntimeId, harness.ConnectionId, terminate: true);

        Assert.Equal(4001, (await client.ExpectCloseAndAnswerAsync()).CloseCode);
        Assert.Equal(0, await runtime.ReadToEndAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task Terminate_in_the_middle_of_a_runtime_frame_puts_no_close_inside_its_payload()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        var frame = FakeRuntimeFrame.Encode(FakeRuntimeFrame.Binary, new byte[100_000]);
        var sent = frame[..30_000];
        await runtime.SendRawAsync(sent);
        Assert.Equal(sent, await client.Wire.ReadExactlyAsync(sent.Length));

        await harness.Relay.DeleteConnectionAsync(SpliceHarness.RuntimeId, harness.ConnectionId, terminate: true);

        var runtimeClose = await runtime.ReadFrameAsync();
        Assert.Equal(4001, runtimeClose.CloseCode);
        Assert.Equal(0, await client.ReadToEndAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task Terminate_while_the_runtime_handshake_is_pending_leaves_no_live_attach()
    {
        await using var harness = await SpliceHarness.StartAsync();
        harness.Runtime.HandshakeDelay = TimeSpan.FromMilliseconds(800);
        await using var client = await RawClient.ConnectAsync(harness.Endpoint);
        await client.SendUpgradeAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (harness.Runtime.AcceptedConnections == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        // The lease is admitted and the relay is waiting on the runtime's 101 when the lease is terminated.
        await harness.Relay.DeleteConnectionAsync(SpliceHarness.RuntimeId, harness.ConnectionId, terminate: true);

        var response = await client.ReadResponseAsync();
        if (response.Status == 101)
        {
            // Refusing is better, but a 101 must at least be followed at once by the lease-terminated close.
            var close = await client.ReadFrameSkippingPingsAsync();
            Assert.Equal(FakeRuntimeFrame.Close, close.Opcode);
            Assert.Equal(4001, close.CloseCode);
        }
        else
        {
            Assert.Equal(401, response.Status);
            Assert.Equal("lease_revoked", response.ErrorCode());
        }
    }
}
