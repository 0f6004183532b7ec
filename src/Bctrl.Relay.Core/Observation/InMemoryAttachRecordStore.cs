using System.Collections.Concurrent;

namespace Bctrl.Relay.Observation;

/// <summary>The embedded default's attach metadata: the last <see cref="PerConnection"/> attaches of each connection.</summary>
internal sealed class InMemoryAttachRecordStore : IAttachRecordStore
{
    public const int PerConnection = 1000;

    private readonly ConcurrentDictionary<Guid, List<AttachRecord>> _byConnection = new();

    public ValueTask SaveAsync(AttachRecord record, CancellationToken cancellationToken)
    {
        var list = _byConnection.GetOrAdd(record.ConnectionId, _ => []);
        lock (list)
        {
            // From the end: the record an attach's close replaces is among the newest.
            var index = list.Count - 1;
            while (index >= 0 && list[index].AttachId != record.AttachId)
            {
                index--;
            }

            if (index >= 0)
            {
                list[index] = record;
            }
            else
            {
                list.Add(record);
                if (list.Count > PerConnection)
                {
                    list.RemoveAt(0);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<AttachRecord>> ListAsync(Guid connectionId, CancellationToken cancellationToken)
    {
        if (!_byConnection.TryGetValue(connectionId, out var list))
        {
            return ValueTask.FromResult<IReadOnlyList<AttachRecord>>([]);
        }

        lock (list)
        {
            return ValueTask.FromResult<IReadOnlyList<AttachRecord>>(list.ToArray());
        }
    }

    /// <summary>Drops the records of connections the connection store no longer knows.</summary>
    public void Forget(Guid connectionId) => _byConnection.TryRemove(connectionId, out _);
}
