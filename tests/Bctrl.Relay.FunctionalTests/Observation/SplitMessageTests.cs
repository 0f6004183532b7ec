using System.Text;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Observation;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Observation;

/// <summary>
/// TCP cuts a stream anywhere: a small CDP message whose frame header ends one read and whose first bytes start the next
/// is still a whole command, result or event, and the record of the run must show it (docs/design.md §6: what is not recorded is
/// dropped and counted, never silently missing).
/// </summary>
public sealed class SplitMessageTests
{
    [Theory(Timeout = 30_000)]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(14)]
    public async Task A_message_cut_just_after_its_frame_header_is_recorded(int payloadBytesInFirstRead)
    {
        await using var rig = await ObservationRig.StartAsync();
        var lease = await rig.CreateLeaseAsync();
        var (client, runtime) = await rig.AttachAsync(lease);
        await using var clientScope = client;

        var command = ObservationRig.Command(1, "Page.navigate", """{"url":"http://127.0.0.1/split"}""");
        var clientCut = 6 + payloadBytesInFirstRead; // 2 header bytes and a 4-byte masking key
        await client.SendRawAsync(command[..clientCut]);
        await Task.Delay(150); // the relay reads and forwards the first part alone
        await client.SendRawAsync(command[clientCut..]);
        var forwarded = await runtime.ReadFrameAsync();
        Assert.Equal("Page.navigate", System.Text.Json.JsonDocument.Parse(forwarded.Payload).RootElement.GetProperty("method").GetString());

        var runtimeMessages = new[]
        {
            FakeRuntimeFrame.Encode(FakeRuntimeFrame.Text, """{"method":"Page.frameStartedLoading","params":{"frameId":"F"}}"""u8),
            FakeRuntimeFrame.Encode(FakeRuntimeFrame.Text, """{"id":1,"result":{"frameId":"F","loaderId":"L"}}"""u8),
        };
        foreach (var message in runtimeMessages)
        {
            var runtimeCut = 2 + payloadBytesInFirstRead;
            await runtime.SendRawAsync(message[..runtimeCut]);
            await Task.Delay(150);
            await runtime.SendRawAsync(message[runtimeCut..]);
            Assert.Equal(message[2..], Encoding.UTF8.GetBytes((await client.ReadFrameSkippingPingsAsync()).PayloadText));
        }

        await client.SendCloseAsync(1000);
        Assert.Equal(1000, (await runtime.ReadFrameAsync()).CloseCode);
        await runtime.SendCloseAsync(1000);
        runtime.Drop();
        var records = await rig.ReadRecordsUntilAsync(e => e.Type == RecordTypes.AttachClosed);

        var types = string.Join(", ", records.Select(r => $"{r.Type} {r.Method} {r.CdpId}"));
        Assert.True(records.Any(r => r.Type == RecordTypes.CdpCommand && r.Method == "Page.navigate" && r.CdpId == 1), $"no command in: {types}");
        Assert.True(records.Any(r => r.Type == RecordTypes.CdpEvent && r.Method == "Page.frameStartedLoading"), $"no event in: {types}");
        var result = records.SingleOrDefault(r => r.Type == RecordTypes.CdpResult && r.CdpId == 1);
        Assert.True(result is not null, $"no result in: {types}");
        Assert.Equal("Page.navigate", result.Method);
        Assert.True(result.Json.GetProperty("latencyMs").GetDouble() >= 0);
    }
}
