using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Splice;

/// <summary>docs/design.md §4 step 2: the client gets its 101 only after the runtime's, and bytes on either side of the upgrade survive it.</summary>
public sealed class HandshakeOrderingTests
{
    [Fact(Timeout = 30_000)]
    public async Task Client_bytes_sent_with_the_upgrade_reach_the_runtime_only_after_its_101_and_intact()
    {
        await using var harness = await SpliceHarness.StartAsync();
        harness.Runtime.HandshakeDelay = TimeSpan.FromMilliseconds(300);
        await using var client = await RawClient.ConnectAsync(harness.Endpoint);
        var early = RawClient.Frame(FakeRuntimeFrame.Text, """{"id":1,"method":"Browser.getVersion"}"""u8.ToArray());

        // The request and a masked frame in one TCP write, as an eager client library might do.
        await client.SendUpgradeAsync(behind: early);

        var runtime = await harness.Runtime.NextConnectionAsync();
        Assert.Equal(0, runtime.EarlyBytes);
        var response = await client.ReadResponseAsync();
        Assert.Equal(101, response.Status);
        Assert.Equal(early, await runtime.Wire.ReadExactlyAsync(early.Length));
    }

    [Fact(Timeout = 30_000)]
    public async Task Runtime_bytes_right_behind_its_101_reach_the_client()
    {
        var greeting = FakeRuntimeFrame.Encode(FakeRuntimeFrame.Text, """{"method":"Target.targetCreated","params":{}}"""u8.ToArray());
        var cut = FakeRuntimeFrame.Encode(FakeRuntimeFrame.Binary, new byte[300]);
        var runtime = FakeRuntime.Start();

        var big = FakeRuntimeFrame.Encode(FakeRuntimeFrame.Binary, Enumerable.Range(0, 10_000).Select(i => (byte)i).ToArray());

        // Whole frames (one larger than a 4 KiB block) and the first 3 bytes of the next (a header cut in two) in
        // the same write as the 101.
        runtime.BehindHandshake = [.. greeting, .. big, .. cut[..3]];
        await using var harness = await SpliceHarness.StartAsync(runtime: runtime);

        var (client, runtimeSide) = await harness.AttachAsync();
        await using var _ = client;

        Assert.Equal(greeting, await client.Wire.ReadExactlyAsync(greeting.Length));
        Assert.Equal(big, await client.Wire.ReadExactlyAsync(big.Length));
        await runtimeSide.SendRawAsync(cut[3..]);
        Assert.Equal(cut, await client.Wire.ReadExactlyAsync(cut.Length));
    }
}
