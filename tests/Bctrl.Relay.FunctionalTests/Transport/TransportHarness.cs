using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Transport;

/// <summary>
/// The splice harness as the transport tests start it: keep-alive pings pushed out of the test's reach (ten minutes), so
/// that every byte a peer receives is a byte the other peer sent, and a test can compare whole streams exactly.
/// </summary>
internal static class TransportHarness
{
    public static Task<SpliceHarness> StartAsync(IDictionary<string, string?>? settings = null, FakeRuntime? runtime = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Relay:KeepAlive:Interval"] = "00:10:00",
            ["Relay:KeepAlive:Timeout"] = "00:10:00",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        return SpliceHarness.StartAsync(values, runtime);
    }

    /// <summary>Sends a small frame each way and checks it arrives: the splice still carries traffic both ways.</summary>
    public static async Task AssertRoundTripAsync(RawClient client, FakeRuntimeConnection runtime, string what)
    {
        var up = RawClient.Frame(FakeRuntimeFrame.Text, System.Text.Encoding.UTF8.GetBytes($"up: {what}"));
        await client.SendRawAsync(up);
        Assert.Equal(up, await runtime.Wire.ReadExactlyAsync(up.Length));
        var down = FakeRuntimeFrame.Encode(FakeRuntimeFrame.Text, System.Text.Encoding.UTF8.GetBytes($"down: {what}"));
        await runtime.SendRawAsync(down);
        Assert.Equal(down, await client.Wire.ReadExactlyAsync(down.Length));
    }
}
