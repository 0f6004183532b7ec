namespace Bctrl.Relay.Artifacts;

/// <summary>
/// Where an attach's captures go: the bounded queue in front of the artifact pump. Neither call waits, so a capture
/// never holds the splice (docs/artifacts.md: a lost artifact is counted, never a blocked splice).
/// </summary>
/// <remarks>
/// The bound covers captures in progress as well as those waiting: a capture reserves the room its buffer takes before
/// it copies into it (<see cref="TryReserve"/>), hands the reservation over with the message, and gives back what it
/// does not hand over. So a node's artifacts in flight never exceed the bound, however many attaches capture at once.
/// </remarks>
internal interface IArtifactSink
{
    /// <summary>Reserves room for <paramref name="bytes"/> of a capture's buffer; false (counted lost, <c>queue_full</c>) when there is none.</summary>
    bool TryReserve(long bytes);

    /// <summary>Gives back room reserved for a capture that ended without being taken.</summary>
    void Unreserve(long bytes);

    /// <summary>
    /// Takes a whole message with the room reserved for it (<see cref="CapturedMessage.Reserved"/>), or refuses it and
    /// counts it lost; the caller gives back the room of a refused one and releases it.
    /// </summary>
    bool TryTake(CapturedMessage message);

    /// <summary>Counts an artifact lost before it reached the queue (<see cref="ArtifactLoss"/>).</summary>
    void CountLost(string reason);
}
