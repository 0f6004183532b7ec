using System.Collections.Concurrent;
using System.Globalization;

namespace Bctrl.Relay.Observation;

/// <summary>The embedded default's event store: a ring per runtime, ids counting up from 1.</summary>
internal sealed class InMemoryEventStore(int capacityPerRuntime) : IEventStore
{
    private readonly ConcurrentDictionary<string, Ring> _rings = new(StringComparer.Ordinal);

    public ValueTask AppendAsync(IReadOnlyList<ObservationRecord> batch, CancellationToken cancellationToken)
    {
        // Batches are mostly one runtime's records in a row: look the ring up once per run, not per record.
        var start = 0;
        while (start < batch.Count)
        {
            var runtimeId = batch[start].RuntimeId;
            var end = start + 1;
            while (end < batch.Count && string.Equals(batch[end].RuntimeId, runtimeId, StringComparison.Ordinal))
            {
                end++;
            }

            _rings.GetOrAdd(runtimeId, _ => new Ring(capacityPerRuntime)).Append(batch, start, end);
            start = end;
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
        // Records and their sequence numbers; the id string a reader resumes from is made only when read.
        private readonly (long Id, ObservationRecord? Record)[] _slots = new (long, ObservationRecord?)[capacity];
        private readonly Lock _lock = new();
        private long _last;
        private TaskCompletionSource? _appended;

        public void Append(IReadOnlyList<ObservationRecord> records, int start, int end)
        {
            TaskCompletionSource? appended;
            lock (_lock)
            {
                for (var i = start; i < end; i++)
                {
                    _last++;
                    _slots[_last % _slots.Length] = (_last, records[i]);
                }

                // Only readers waiting for news get woken; with none, an append allocates nothing but the slots' use.
                appended = _appended;
                _appended = null;
            }

            appended?.TrySetResult();
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
                    var (id, record) = _slots[(first + i) % _slots.Length];
                    result[i] = new StoredRecord(id.ToString(CultureInfo.InvariantCulture), record!);
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

                _appended ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
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
