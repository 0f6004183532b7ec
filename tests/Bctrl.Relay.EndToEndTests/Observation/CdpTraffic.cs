using System.Text.Json;

namespace Bctrl.Relay.EndToEndTests.Observation;

/// <summary>A CDP message as the client sent or received it on the wire.</summary>
internal sealed record CdpMessage(long? Id, string? Method, string? SessionId, bool IsError, string Text)
{
    public static CdpMessage Parse(string text)
    {
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        return new CdpMessage(
            root.TryGetProperty("id", out var id) ? id.GetInt64() : null,
            root.TryGetProperty("method", out var method) ? method.GetString() : null,
            root.TryGetProperty("sessionId", out var session) ? session.GetString() : null,
            root.TryGetProperty("error", out _),
            text);
    }

    public override string ToString() => $"{Method ?? "result"} #{Id} {SessionId}";
}

/// <summary>The CDP messages of one proxied attach, each way.</summary>
internal sealed class CdpTraffic
{
    public CdpTraffic(ProxiedConnection connection)
    {
        Sent = [.. WireFrame.TextMessages(connection.FramesFromClient).Select(CdpMessage.Parse)];
        Received = [.. WireFrame.TextMessages(connection.FramesToClient).Select(CdpMessage.Parse)];
    }

    /// <summary>What the client sent: commands.</summary>
    public IReadOnlyList<CdpMessage> Sent { get; }

    /// <summary>What the client received: results and events.</summary>
    public IReadOnlyList<CdpMessage> Received { get; }

    public IEnumerable<CdpMessage> Results => Received.Where(m => m.Id is not null);

    public IEnumerable<CdpMessage> Events => Received.Where(m => m.Id is null && m.Method is not null);
}
