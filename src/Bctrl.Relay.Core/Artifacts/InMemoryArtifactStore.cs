using System.Runtime.InteropServices;

namespace Bctrl.Relay.Artifacts;

/// <summary>
/// The embedded default's artifacts: one list, oldest first, bounded by bytes over all runtimes, by count per runtime
/// and by age. One lock: a save is one artifact, far rarer than a frame.
/// </summary>
internal sealed class InMemoryArtifactStore(int perRuntime, long maxBytes, TimeSpan retention, TimeProvider time) : IArtifactStore
{
    private readonly Lock _lock = new();
    private readonly LinkedList<StoredArtifact> _all = new();
    private readonly Dictionary<string, int> _countByRuntime = new(StringComparer.Ordinal);
    private long _bytes;

    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    public ValueTask SaveAsync(ArtifactRecord record, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            // In creation order: a large capture that ends after a smaller, later one still sits before it (retention
            // trims from the front).
            var after = _all.Last;
            while (after is not null && after.Value.Record.CreatedAt > record.CreatedAt)
            {
                after = after.Previous;
            }

            var stored = new StoredArtifact(record, content);
            _ = after is null ? _all.AddFirst(stored) : _all.AddAfter(after, stored);
            _bytes += content.Length;
            _countByRuntime[record.RuntimeId] = _countByRuntime.GetValueOrDefault(record.RuntimeId) + 1;
            Trim(record.RuntimeId);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<ArtifactRecord>> ListAsync(string runtimeId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Trim(runtimeId);
            var list = new List<ArtifactRecord>();
            foreach (var stored in _all)
            {
                if (stored.Record.RuntimeId == runtimeId)
                {
                    list.Add(stored.Record);
                }
            }

            return ValueTask.FromResult<IReadOnlyList<ArtifactRecord>>(list);
        }
    }

    public ValueTask<StoredArtifact?> GetAsync(string runtimeId, string artifactId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Trim(runtimeId);
            foreach (var stored in _all)
            {
                if (stored.Record.Id == artifactId && stored.Record.RuntimeId == runtimeId)
                {
                    return ValueTask.FromResult<StoredArtifact?>(stored);
                }
            }

            return ValueTask.FromResult<StoredArtifact?>(null);
        }
    }

    /// <summary>Drops what is past retention, over the byte bound (oldest first), and over the runtime's count.</summary>
    private void Trim(string runtimeId)
    {
        var oldest = time.GetUtcNow() - retention;
        while (_all.First is { } first && (first.Value.Record.CreatedAt < oldest || _bytes > maxBytes))
        {
            Remove(first);
        }

        if (_countByRuntime.GetValueOrDefault(runtimeId) <= perRuntime)
        {
            return;
        }

        for (var node = _all.First; node is not null && _countByRuntime.GetValueOrDefault(runtimeId) > perRuntime;)
        {
            var next = node.Next;
            if (node.Value.Record.RuntimeId == runtimeId)
            {
                Remove(node);
            }

            node = next;
        }
    }

    private void Remove(LinkedListNode<StoredArtifact> node)
    {
        _all.Remove(node);
        _bytes -= node.Value.Content.Length;
        var runtimeId = node.Value.Record.RuntimeId;
        if (--CollectionsMarshal.GetValueRefOrNullRef(_countByRuntime, runtimeId) == 0)
        {
            _countByRuntime.Remove(runtimeId);
        }
    }
}
