using System.Net.WebSockets;
using System.Security.Cryptography;
using Bctrl.Relay.Options;
using Bctrl.Relay.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.FunctionalTests.Splice;

/// <summary>docs/design.md §4: how an attach lives and ends, as the client, the runtime and the control API see it.</summary>
public sealed class LifecycleTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_runtime_that_vanishes_without_a_close_frame_closes_the_client_with_1014()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        await runtime.SendFrameAsync(FakeRuntimeFrame.Text, "last words"u8.ToArray());

        runtime.Drop();

        Assert.Equal("last words", (await client.ReadFrameAsync()).PayloadText);
        var close = await client.ExpectCloseAndAnswerAsync();
        Assert.Equal(1014, close.CloseCode);
        Assert.NotNull(await harness.WaitForLogAsync("closed: RuntimeGone"));
    }

    [Fact(Timeout = 30_000)]
    public async Task The_connection_counts_live_attaches_while_they_run_and_totals_them_after()
    {
        var runtime = FakeRuntime.Start();
        runtime.Echo = true;
        await using var harness = await SpliceHarness.StartAsync(runtime: runtime);
        Assert.Equal((0, 0), await harness.GetAttachCountsAsync());

        for (var i = 1; i <= 3; i++)
        {
            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(harness.Endpoint, CancellationToken.None);
            var command = """{"id":1,"method":"Browser.getVersion"}"""u8.ToArray();
            await socket.SendAsync(command, WebSocketMessageType.Text, true, CancellationToken.None);
            var buffer = new byte[256];
            var echoed = await socket.ReceiveAsync(buffer, CancellationToken.None);
            Assert.True(echoed.EndOfMessage);
            Assert.Equal(command, buffer[..echoed.Count]);

            Assert.Equal((1, i), await harness.GetAttachCountsAsync());

            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
            Assert.Equal((0, i), await harness.WaitForAttachCountsAsync(0, i));
        }

        Assert.Empty(harness.Runtime.Errors);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_client_side_is_spliced_through_the_transport_in_effect_byte_exact()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        // Byte-exact both ways, frames of awkward sizes in one write.
        byte[] up = [.. Enumerable.Range(0, 40).SelectMany(i => RawClient.Frame(FakeRuntimeFrame.Binary, RandomNumberGenerator.GetBytes(i * 997 % 70_000)))];
        byte[] down = [.. Enumerable.Range(0, 40).SelectMany(i => FakeRuntimeFrame.Encode(FakeRuntimeFrame.Binary, RandomNumberGenerator.GetBytes(i * 1009 % 70_000)))];
        var sendUp = client.SendRawAsync(up);
        var sendDown = runtime.SendRawAsync(down);
        Assert.Equal(up, await runtime.Wire.ReadExactlyAsync(up.Length));
        Assert.Equal(down, await client.Wire.ReadExactlyAsync(down.Length));
        await Task.WhenAll(sendUp, sendDown);

        runtime.Reset();
        var line = await harness.WaitForLogAsync("spliced through");
        Assert.NotNull(line);
        // Kestrel's pipes behind its Sockets transport; the relay's own I/O loops behind the relay transport (issue 9).
        var transport = harness.Relay.Services.GetRequiredService<IOptions<RelayOptions>>().Value.EffectiveTransport;
        Assert.Contains(transport == ListenerTransport.Relay ? "the relay's I/O loop" : "Kestrel's transport pipes", line, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_client_that_stops_reading_is_closed_as_stalled_and_the_runtime_is_told()
    {
        await using var harness = await SpliceHarness.StartAsync(new Dictionary<string, string?> { ["Relay:Limits:StallTimeout"] = "00:00:01" });
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        // 64 MiB towards a client that reads nothing: the pipes and socket buffers fill, then the relay's writes wait.
        var flood = Task.Run(async () =>
        {
            try
            {
                await runtime.SendRawAsync(FakeRuntimeFrame.Encode(FakeRuntimeFrame.Binary, new byte[64 * 1024 * 1024]));
            }
            catch (IOException)
            {
                // The relay ended the connection under the write.
            }
        });

        var close = await runtime.ReadFrameAsync();
        Assert.Equal(FakeRuntimeFrame.Close, close.Opcode);
        Assert.Equal(1001, close.CloseCode);
        Assert.Equal("client stalled", close.CloseReason);
        Assert.NotNull(await harness.WaitForLogAsync("closed: ClientStalled"));
        await flood;
    }

    [Fact(Timeout = 30_000)]
    public async Task A_client_that_leaves_while_the_runtime_handshake_is_pending_leaves_no_runtime_connection_behind()
    {
        await using var harness = await SpliceHarness.StartAsync();
        harness.Runtime.HandshakeDelay = TimeSpan.FromMilliseconds(700);
        var client = await RawClient.ConnectAsync(harness.Endpoint);
        await client.SendUpgradeAsync();
        await Task.Delay(200);
        await client.DisposeAsync();

        var runtime = await harness.Runtime.NextConnectionAsync();
        await runtime.ReadToEndAsync();
        Assert.Equal((0, 0), await harness.WaitForAttachCountsAsync(0, 0));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_client_that_vanishes_without_a_close_frame_gets_its_last_frame_through_and_the_runtime_a_1001()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        var last = RawClient.Frame(FakeRuntimeFrame.Text, "last command"u8.ToArray());

        await client.SendRawAsync(last);
        await client.DisposeAsync();

        Assert.Equal(last, await runtime.Wire.ReadExactlyAsync(last.Length));
        var close = await runtime.ReadFrameAsync();
        Assert.True(close.Masked);
        Assert.Equal(1001, close.CloseCode);
        Assert.Equal(0, await runtime.ReadToEndAsync());
        Assert.NotNull(await harness.WaitForLogAsync("closed: ClientGone"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Stopping_the_relay_drains_live_attaches_with_1001_on_both_legs()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        var stopping = harness.Relay.DisposeAsync().AsTask();

        var close = await client.ReadFrameSkippingPingsAsync();
        Assert.Equal(1001, close.CloseCode);
        await client.SendCloseAsync(1001);
        var runtimeClose = await runtime.ReadFrameAsync();
        Assert.Equal(1001, runtimeClose.CloseCode);
        Assert.Equal("relay draining", runtimeClose.CloseReason);
        await stopping;
    }

    [Fact(Timeout = 30_000)]
    public async Task Many_concurrent_attaches_each_keep_their_own_stream()
    {
        var runtime = FakeRuntime.Start();
        runtime.Echo = true;
        await using var harness = await SpliceHarness.StartAsync(runtime: runtime);

        await Task.WhenAll(Enumerable.Range(0, 24).Select(async n =>
        {
            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(harness.Endpoint, CancellationToken.None);
            var buffer = new byte[64 * 1024];
            for (var i = 0; i < 50; i++)
            {
                var message = System.Text.Encoding.UTF8.GetBytes($"{{\"id\":{i},\"attach\":{n},\"pad\":\"{new string('x', (n * 131 + i * 17) % 3000)}\"}}");
                await socket.SendAsync(message, WebSocketMessageType.Text, true, CancellationToken.None);
                var received = 0;
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer, received, buffer.Length - received), CancellationToken.None);
                    received += result.Count;
                }
                while (!result.EndOfMessage);
                Assert.Equal(message, buffer[..received]);
            }

            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }));

        Assert.Equal((0, 24), await harness.WaitForAttachCountsAsync(0, 24));
        Assert.Empty(harness.Runtime.Errors);
    }
}
