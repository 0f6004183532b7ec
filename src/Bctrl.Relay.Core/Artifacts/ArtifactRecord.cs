namespace Bctrl.Relay.Artifacts;

/// <summary>
/// One stored artifact, as listed by <c>GET /v1/runtimes/{id}/artifacts</c> (docs/artifacts.md): what it is, which
/// connection, attach and command it came from, and its size. Never a token, a runtime address or a download's URL
/// (which may carry the site's own credentials).
/// </summary>
internal sealed record ArtifactRecord
{
    /// <summary>32 hex digits, unique; with the creation time it orders the runtime's list.</summary>
    public required string Id { get; init; }

    public required string RuntimeId { get; init; }

    public required Guid ConnectionId { get; init; }

    public required long AttachId { get; init; }

    /// <summary><c>screenshot</c>, <c>pdf</c>, <c>screencastFrame</c> or <c>download</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>The CDP method it came with: the command of a result, or the event.</summary>
    public required string Method { get; init; }

    /// <summary>The id of the command whose result held it; absent for events.</summary>
    public long? CommandId { get; init; }

    public string? SessionId { get; init; }

    public required string ContentType { get; init; }

    public required long Size { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>A download's suggested file name.</summary>
    public string? Name { get; init; }
}
