namespace Bctrl.Relay.Client;

/// <summary>The recording metadata of one attach (README, "Observation"): when, how it ended, what it moved.</summary>
public sealed record AttachRecord
{
    /// <summary>The attach's number on its relay node.</summary>
    public long AttachId { get; init; }

    /// <summary>The connection (lease) the attach used.</summary>
    public Guid ConnectionId { get; init; }

    /// <summary>The runtime it reached.</summary>
    public string RuntimeId { get; init; } = "";

    /// <summary>When the client's upgrade was admitted.</summary>
    public DateTimeOffset OpenedAt { get; init; }

    /// <summary>When it ended; null while live.</summary>
    public DateTimeOffset? ClosedAt { get; init; }

    /// <summary>snake_case end reason (README, "How an attach ends"); null while live.</summary>
    public string? Reason { get; init; }

    /// <summary>More about the reason, when there is more to say.</summary>
    public string? Detail { get; init; }

    /// <summary><c>client</c>, <c>runtime</c> or <c>relay</c>; null while live.</summary>
    public string? ClosedBy { get; init; }

    /// <summary>The code of the close frame the client sent (0: none).</summary>
    public int ClientCloseCode { get; init; }

    /// <summary>The code of the close frame the runtime sent (0: none).</summary>
    public int RuntimeCloseCode { get; init; }

    /// <summary>The relay's own close to the client (0: none).</summary>
    public int RelayCloseToClient { get; init; }

    /// <summary>The relay's own close to the runtime (0: none).</summary>
    public int RelayCloseToRuntime { get; init; }

    /// <summary>Bytes the client sent that the relay forwarded.</summary>
    public long BytesFromClient { get; init; }

    /// <summary>Bytes the runtime sent that the relay forwarded.</summary>
    public long BytesFromRuntime { get; init; }

    /// <summary>Frames the client sent.</summary>
    public long FramesFromClient { get; init; }

    /// <summary>Frames the runtime sent.</summary>
    public long FramesFromRuntime { get; init; }

    /// <summary>Messages the client sent.</summary>
    public long MessagesFromClient { get; init; }

    /// <summary>Messages the runtime sent.</summary>
    public long MessagesFromRuntime { get; init; }

    /// <summary>CDP commands the client sent, by domain.</summary>
    public IReadOnlyDictionary<string, long>? CommandsByDomain { get; init; }

    /// <summary>The client's address as the relay saw it.</summary>
    public string? ClientAddress { get; init; }

    /// <summary>The client's User-Agent header.</summary>
    public string? UserAgent { get; init; }
}
