using System.Collections.Concurrent;
using Bctrl.Relay.Observation;

namespace Bctrl.Relay.Tests.Observation;

/// <summary>An <see cref="IRecordSink"/> that keeps what it is given, or refuses it (a full queue) when told to.</summary>
internal sealed class RecordingSink : IRecordSink
{
    private readonly ConcurrentQueue<ObservationRecord> _records = new();
    private readonly ConcurrentQueue<(string Domain, TimeSpan RoundTrip)> _completed = new();

    /// <summary>When set, every write is refused, as by a full queue.</summary>
    public bool Full { get; set; }

    public int Refused { get; private set; }

    public IReadOnlyList<ObservationRecord> Records => [.. _records];

    public IReadOnlyList<(string Domain, TimeSpan RoundTrip)> Completed => [.. _completed];

    public IReadOnlyList<ObservationRecord> OfType(string type) => Records.Where(r => r.Type == type).ToArray();

    public bool TryWrite(ObservationRecord record)
    {
        if (Full)
        {
            Refused++;
            return false;
        }

        _records.Enqueue(record);
        return true;
    }

    public void CommandCompleted(string domain, TimeSpan roundTrip) => _completed.Enqueue((domain, roundTrip));
}
