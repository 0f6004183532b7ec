namespace Bctrl.Relay.Observation;

/// <summary>The recording metadata of one attach (design §6): when, how it ended, what it moved, who it was.</summary>
internal sealed record AttachRecord
{
    public required long AttachId { get; init; }

    public required Guid ConnectionId { get; init; }

    public required string RuntimeId { get; init; }

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

    public long BytesFromClient { get; init; }

    public long BytesFromRuntime { get; init; }

    public long FramesFromClient { get; init; }

    public long FramesFromRuntime { get; init; }

    public long MessagesFromClient { get; init; }

    public long MessagesFromRuntime { get; init; }

    /// <summary>CDP commands the client sent, by domain.</summary>
    public IReadOnlyDictionary<string, long>? CommandsByDomain { get; init; }

    public string? ClientAddress { get; init; }

    public string? UserAgent { get; init; }
}
