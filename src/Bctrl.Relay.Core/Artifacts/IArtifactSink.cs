namespace Bctrl.Relay.Artifacts;

/// <summary>
/// Where an attach's captures go: the bounded queue in front of the artifact pump. Neither call waits, so a capture
/// never holds the splice (docs/artifacts.md: a lost artifact is counted, never a blocked splice).
/// </summary>
internal interface IArtifactSink
{
    /// <summary>Takes a whole message, or refuses it (full) and counts it lost; the caller releases a refused one.</summary>
    bool TryTake(CapturedMessage message);

    /// <summary>Counts an artifact lost before it reached the queue (<see cref="ArtifactLoss"/>).</summary>
    void CountLost(string reason);
}
