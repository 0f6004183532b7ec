using System.Collections.Concurrent;
using System.Globalization;

namespace Bctrl.Relay.Observation;

/// <summary>The embedded default's event store: a ring per runtime, ids counting up from 1.</summary>
internal sealed class InMemoryEventStore(int capacityPerRuntime) : IEventStore
{
    private readonly ConcurrentDictionary<string, Ring> _rings = new(StringComparer.Ordinal);

    public ValueTask AppendAsync(IReadOnlyList<ObservationRecord> batch, CancellationToken cancellationToken)
    {
        foreach (var group in batch.GroupBy(r => r.RuntimeId, StringComparer.Ordinal))
        {
            _rings.GetOrAdd(group.Key, _ => new Ring(capacityPerRuntime)).Append(group);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<StoredRecord>> ReadAsync(string runtimeId, string? afterId, int max, CancellationToken cancellationToken)
        => ValueTask.FromResult(_rings.TryGetValue(runtimeId, out var ring) ? ring.Read(Parse(afterId), max) : (IReadOnlyList<StoredRecord>)[]);

    public Task WaitAsync(string runtimeId, string? afterId, TimeSpan timeout, CancellationToken cancellationToken)
        => _rings.GetOrAdd(runtimeId, _ => new Ring(capacityPerRuntime)).WaitAsync(Parse(afterId), timeout, cancellationToken);

    private static long Parse(string? id) => long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;

    private sealed class Ring(int capacity)
    {
        private readonly StoredRecord[] _slots = new StoredRecord[capacity];
        private readonly Lock _lock = new();
        private long _last;
        private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Append(IEnumerable<ObservationRecord> records)
        {
            TaskCompletionSource appended;
            lock (_lock)
            {
                foreach (var record in records)
                {
                    _last++;
                    _slots[_last % _slots.Length] = new StoredRecord(_last.ToString(CultureInfo.InvariantCulture), record);
                }

                appended = _appended;
                _appended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            appended.TrySetResult();
        }

        public IReadOnlyList<StoredRecord> Read(long after, int max)
        {
            lock (_lock)
            {
                var first = Math.Max(after + 1, _last - _slots.Length + 1);
                var count = (int)Math.Clamp(_last - first + 1, 0, max);
                var result = new StoredRecord[count];
                for (var i = 0; i < count; i++)
                {
                    result[i] = _slots[(first + i) % _slots.Length];
                }

                return result;
            }
        }

        public async Task WaitAsync(long after, TimeSpan timeout, CancellationToken cancellationToken)
        {
            Task appended;
            lock (_lock)
            {
                if (_last > after)
                {
                    return;
                }

                appended = _appended.Task;
            }

            try
            {
                await appended.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The caller sends a keep-alive comment and waits again.
            }
        }
    }
}
