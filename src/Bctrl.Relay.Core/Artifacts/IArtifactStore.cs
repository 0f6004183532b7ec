namespace Bctrl.Relay.Artifacts;

/// <summary>
/// A runtime's artifacts, bounded (docs/artifacts.md): in memory for the embedded default, files on a directory, or
/// Redis in a fleet. Each keeps at most <c>Relay:Artifacts:PerRuntime</c> per runtime (the oldest go first) for at
/// most <c>Relay:Artifacts:Retention</c>.
/// </summary>
internal interface IArtifactStore
{
    ValueTask SaveAsync(ArtifactRecord record, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    /// <summary>The runtime's artifacts, oldest first.</summary>
    ValueTask<IReadOnlyList<ArtifactRecord>> ListAsync(string runtimeId, CancellationToken cancellationToken);

    /// <summary>One artifact and its bytes; null when the runtime has none by that id (never stored, or gone).</summary>
    ValueTask<StoredArtifact?> GetAsync(string runtimeId, string artifactId, CancellationToken cancellationToken);
}

/// <summary>An artifact with its bytes.</summary>
internal sealed record StoredArtifact(ArtifactRecord Record, ReadOnlyMemory<byte> Content);
