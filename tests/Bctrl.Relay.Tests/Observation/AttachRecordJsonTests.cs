using System.Text.Json;
using Bctrl.Relay.Leases;
using Bctrl.Relay.Observation;

namespace Bctrl.Relay.Tests.Observation;

/// <summary>
/// The JSON of an attach record is a contract (the <c>attach.closed</c> record in SSE and Redis streams, and
/// <c>GET …/attaches</c>): its field names and order must not move when the types behind it do.
/// </summary>
public sealed class AttachRecordJsonTests
{
    private const string Expected =
        """{"attachId":7,"connectionId":"0b8f4a7e-9a55-4a3e-b0d1-6c2f0e8d7a41","runtimeId":"rt-1","scope":{"target":"8F2B0C6D4E1A3579BDF02468ACE13579"},"openedAt":"2025-01-02T03:04:05+00:00","closedAt":"2025-01-02T03:04:06+00:00","reason":"client_closed","closedBy":"client","clientCloseCode":1000,"runtimeCloseCode":1001,"relayCloseToClient":4001,"relayCloseToRuntime":1002,"bytesFromClient":11,"bytesFromRuntime":12,"framesFromClient":13,"framesFromRuntime":14,"messagesFromClient":15,"messagesFromRuntime":16,"commandsByDomain":{"Page":2},"userAgent":"test"}""";

    [Fact]
    public void A_closed_record_keeps_its_field_names_order_and_values_and_reads_back_the_same()
    {
        var record = new AttachRecord
        {
            AttachId = 7,
            ConnectionId = Guid.Parse("0b8f4a7e-9a55-4a3e-b0d1-6c2f0e8d7a41"),
            RuntimeId = "rt-1",
            Scope = new LeaseScope("8F2B0C6D4E1A3579BDF02468ACE13579"),
            OpenedAt = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero),
            ClosedAt = new DateTimeOffset(2025, 1, 2, 3, 4, 6, TimeSpan.Zero),
            Reason = "client_closed",
            ClosedBy = "client",
            ClientCloseCode = 1000,
            RuntimeCloseCode = 1001,
            RelayCloseToClient = 4001,
            RelayCloseToRuntime = 1002,
            BytesFromClient = 11,
            BytesFromRuntime = 12,
            FramesFromClient = 13,
            FramesFromRuntime = 14,
            MessagesFromClient = 15,
            MessagesFromRuntime = 16,
            CommandsByDomain = new Dictionary<string, long> { ["Page"] = 2 },
            UserAgent = "test",
        };

        var json = JsonSerializer.Serialize(record, ObservationJson.Default.AttachRecord);
        var read = JsonSerializer.Deserialize(json, ObservationJson.Default.AttachRecord)!;

        Assert.Equal(Expected, json);
        Assert.Equal("8F2B0C6D4E1A3579BDF02468ACE13579", read.Scope?.Target);
        Assert.Equal((11L, 12L, 13L, 14L, 15L, 16L), (read.BytesFromClient, read.BytesFromRuntime, read.FramesFromClient, read.FramesFromRuntime, read.MessagesFromClient, read.MessagesFromRuntime));
        Assert.Equal(Expected, JsonSerializer.Serialize(read, ObservationJson.Default.AttachRecord));
    }
}
