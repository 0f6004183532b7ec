namespace Bctrl.Relay.Observation;

/// <summary>A record as the event store keeps it: with the id a reader resumes from (SSE <c>Last-Event-ID</c>).</summary>
internal sealed record StoredRecord(string Id, ObservationRecord Record);
