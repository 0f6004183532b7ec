using System.Text.Json.Serialization;
using Bctrl.Relay.Leases;
using Bctrl.Relay.Splice;

namespace Bctrl.Relay.Observation;

/// <summary>The recording metadata of one attach (docs/design.md §6): when, how it ended, what it moved, who it was.</summary>
internal sealed record AttachRecord
{
    public required long AttachId { get; init; }

    public required Guid ConnectionId { get; init; }

    public required string RuntimeId { get; init; }

    /// <summary>The one target a scoped lease attached to (docs/scope.md); absent for a lease of the whole browser.</summary>
    public LeaseScope? Scope { get; init; }

    public required DateTimeOffset OpenedAt { get; init; }

    public DateTimeOffset? ClosedAt { get; init; }

    /// <summary>snake_case end reason (see the README's close-code table); null while live.</summary>
    public string? Reason { get; init; }

    public string? Detail { get; init; }

    /// <summary><c>client</c>, <c>runtime</c> or <c>relay</c>; null while live.</summary>
    public string? ClosedBy { get; init; }

    /// <summary>The code of the close frame the client sent (0: none).</summary>
    public int ClientCloseCode { get; init; }

    /// <summary>The code of the close frame the runtime sent (0: none).</summary>
    public int RuntimeCloseCode { get; init; }

    /// <summary>The relay's own close to the client (0: none, pass-through).</summary>
    public int RelayCloseToClient { get; init; }

    /// <summary>The relay's own close to the runtime (0: none, pass-through).</summary>
    public int RelayCloseToRuntime { get; init; }

    /// <summary>What the client sent that the relay forwarded; written out as the flat fields below.</summary>
    [JsonIgnore]
    public TrafficCount FromClient { get; init; }

    /// <summary>What the runtime sent that the relay forwarded; written out as the flat fields below.</summary>
    [JsonIgnore]
    public TrafficCount FromRuntime { get; init; }

    // The six flat fields are the record's JSON shape (a contract: SSE, Redis, GET …/attaches), kept over the two counts.
    public long BytesFromClient { get => FromClient.Bytes; init => FromClient = FromClient with { Bytes = value }; }

    public long BytesFromRuntime { get => FromRuntime.Bytes; init => FromRuntime = FromRuntime with { Bytes = value }; }

    public long FramesFromClient { get => FromClient.Frames; init => FromClient = FromClient with { Frames = value }; }

    public long FramesFromRuntime { get => FromRuntime.Frames; init => FromRuntime = FromRuntime with { Frames = value }; }

    public long MessagesFromClient { get => FromClient.Messages; init => FromClient = FromClient with { Messages = value }; }

    public long MessagesFromRuntime { get => FromRuntime.Messages; init => FromRuntime = FromRuntime with { Messages = value }; }

    /// <summary>CDP commands the client sent, by domain.</summary>
    public IReadOnlyDictionary<string, long>? CommandsByDomain { get; init; }

    public string? ClientAddress { get; init; }

    public string? UserAgent { get; init; }
}
