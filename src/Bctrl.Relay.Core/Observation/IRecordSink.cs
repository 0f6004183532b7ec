namespace Bctrl.Relay.Observation;

/// <summary>
/// Where an attach's observer puts what it sees. <see cref="TryWrite"/> never blocks: a full queue drops the record
/// and counts it (docs/design.md §6), so the splice never waits on observation.
/// </summary>
internal interface IRecordSink
{
    bool TryWrite(ObservationRecord record);

    /// <summary>A command's round trip, for the CDP round-trip histogram by domain.</summary>
    void CommandCompleted(string domain, TimeSpan roundTrip);
}
