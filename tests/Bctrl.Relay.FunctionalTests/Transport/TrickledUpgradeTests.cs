using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Transport;

/// <summary>
/// Issue 9: the transport reads the upgrade request in whatever pieces it arrives. A client that sends it one byte per
/// send (each its own TCP segment, a millisecond apart) still gets its 101, and the splice then works.
/// </summary>
public sealed class TrickledUpgradeTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_client_that_sends_its_upgrade_one_byte_per_send_gets_its_101_and_echoes_work()
    {
        var runtime = FakeRuntime.Start();
        runtime.Echo = true;
        await using var harness = await TransportHarness.StartAsync(runtime: runtime);
        await using var client = await RawClient.ConnectAsync(harness.Endpoint);

        foreach (var b in client.UpgradeRequest())
        {
            await client.SendRawAsync([b]);
            await Task.Delay(1);
        }

        var response = await client.ReadResponseAsync();
        Assert.True(response.Status == 101, $"expected 101, got {response.Head}{response.Body}");
        Assert.Equal(FakeRuntime.ComputeAccept(client.Key), response.Headers["Sec-WebSocket-Accept"]);
        for (var i = 0; i < 5; i++)
        {
            var payload = System.Text.Encoding.UTF8.GetBytes($"{{\"id\":{i},\"method\":\"Target.getTargets\"}}");
            await client.SendFrameAsync(FakeRuntimeFrame.Text, payload);
            var echo = await client.ReadFrameAsync();
            Assert.Equal((FakeRuntimeFrame.Text, false), (echo.Opcode, echo.Masked));
            Assert.Equal(payload, echo.Payload);
        }

        await client.SendCloseAsync(1000);
        Assert.Equal(1000, (await client.ReadFrameAsync()).CloseCode);
        Assert.Equal(0, await client.ReadToEndAsync());
        Assert.Empty(harness.Runtime.Errors);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_first_frame_trickled_one_byte_per_send_right_behind_the_trickled_request_reaches_the_runtime_exact()
    {
        await using var harness = await TransportHarness.StartAsync();
        await using var client = await RawClient.ConnectAsync(harness.Endpoint);
        var frame = RawClient.Frame(FakeRuntimeFrame.Text, """{"id":7,"method":"Browser.getVersion"}"""u8.ToArray());

        // The frame's bytes follow the request's without waiting for the 101.
        foreach (var b in (byte[])[.. client.UpgradeRequest(), .. frame])
        {
            await client.SendRawAsync([b]);
            await Task.Delay(1);
        }

        Assert.Equal(101, (await client.ReadResponseAsync()).Status);
        var runtime = await harness.Runtime.NextConnectionAsync();
        WireBytes.AssertSame(frame, await runtime.Wire.ReadExactlyAsync(frame.Length), "the trickled frame");
        await TransportHarness.AssertRoundTripAsync(client, runtime, "after the trickled frame");
    }
}
