namespace Bctrl.Relay.Observation;

/// <summary>
/// One record of a run (docs/design.md §6). Never a token, never a runtime address; CDP parameters only when
/// <c>Relay:Observation:StoreParams</c> is on, and then redacted for sensitive methods.
/// </summary>
internal sealed class ObservationRecord
{
    public required string Type { get; init; }

    public required DateTimeOffset Time { get; init; }

    public required string RuntimeId { get; init; }

    public required Guid ConnectionId { get; init; }

    public required long AttachId { get; init; }

    /// <summary>The CDP method of a command or event; of a result, the method of the command it answers.</summary>
    public string? Method { get; init; }

    public long? Id { get; init; }

    public string? SessionId { get; init; }

    /// <summary>Payload bytes of the message (of its first frame, for a fragmented one).</summary>
    public long? Size { get; init; }

    /// <summary>Command round trip, for a result whose command was seen.</summary>
    public double? LatencyMs { get; init; }

    public bool? Error { get; init; }

    /// <summary>The command's parameters as JSON, redacted; only when storing parameters is on.</summary>
    public string? Params { get; init; }

    /// <summary>The artifact an <c>artifact.stored</c> record announces (docs/artifacts.md).</summary>
    public string? ArtifactId { get; init; }

    /// <summary>The recording metadata, on <c>attach.opened</c> and <c>attach.closed</c>.</summary>
    public AttachRecord? Attach { get; init; }
}
