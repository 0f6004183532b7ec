using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

/// <summary>
/// This node's attach counts, written to each lease record off the attach path: an attach only changes two numbers in
/// memory, and a flush loop writes them on the fail-fast multiplexer. Each node owns one field of the record,
/// <c>n:NODE = "sequence live total"</c>, always written whole: a write lost in an outage heals with the next one, a
/// write that timed out here and ran late in Redis is refused by its older sequence number, and a dead node's live
/// count stops counting once the node is no longer heard from (<see cref="RedisConnectionStore.GetAttachCountsAsync"/>).
/// A lease is tracked until it has expired and has no live attach here, so its total never restarts from zero.
/// </summary>
internal sealed class NodeAttachCounts(RedisConnections connections, RedisKeys keys, string nodeId, TimeProvider time, TimeSpan retry, ILogger logger)
{
    /// <summary>
    /// KEYS[1] the lease record; ARGV[1] this node's field, [2] sequence, [3] live, [4] total. Writes unless the field
    /// holds a later sequence; returns the lease's expiry (Unix ms), or -1 when the record is gone.
    /// </summary>
    private const string FlushScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then
          return -1
        end
        local current = redis.call('HGET', KEYS[1], ARGV[1])
        if not current or tonumber(string.match(current, '^%d+')) < tonumber(ARGV[2]) then
          redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4])
        end
        return tonumber(redis.call('HGET', KEYS[1], 'e'))
        """;

    /// <summary>A lease stays tracked this long past its expiry: the clock skew a token's expiry is checked with, and more.</summary>
    private static readonly TimeSpan ExpiryMargin = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<Guid, Entry> _entries = new();
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly string _field = FieldPrefix + nodeId;
    private long _sequence;

    public const string FieldPrefix = "n:";

    /// <summary>Leases tracked: with live attaches here, with counts not yet written, or not yet expired.</summary>
    public int Tracked => _entries.Count;

    /// <summary>Leases whose counts are not yet written.</summary>
    public int Pending => _entries.Values.Count(e => e.Dirty);

    public void Opened(Guid connectionId) => Change(connectionId, live: 1, total: 1);

    public void Closed(Guid connectionId) => Change(connectionId, live: -1, total: 0);

    /// <summary>Parses a node's field value: <c>"sequence live total"</c>.</summary>
    public static bool TryParse(RedisValue value, out long live, out long total)
    {
        live = total = 0;
        var parts = ((string?)value)?.Split(' ');
        return parts is { Length: 3 }
            && long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out live)
            && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out total);
    }

    /// <summary>Flushes whenever something changed, again after a failed flush, and sweeps expired leases; ends with the token.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var lastSweep = time.GetTimestamp();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await _signal.Reader.ReadAsync(cancellationToken).AsTask().WaitAsync(SweepInterval, time, cancellationToken);
                    if (!await FlushAsync())
                    {
                        await Task.Delay(retry, time, cancellationToken);
                        _signal.Writer.TryWrite(true);
                    }
                }
                catch (TimeoutException)
                {
                    // Nothing changed for a while.
                }

                if (time.GetElapsedTime(lastSweep) >= SweepInterval)
                {
                    lastSweep = time.GetTimestamp();
                    Sweep();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping; the fleet flushes once more.
        }
    }

    /// <summary>Writes every changed count; returns false when some write failed (it stays pending).</summary>
    public async Task<bool> FlushAsync()
    {
        var writes = new List<Task<bool>>();
        foreach (var (id, entry) in _entries)
        {
            long live, total, sequence;
            lock (entry)
            {
                if (!entry.Dirty)
                {
                    continue;
                }

                entry.Dirty = false;
                live = entry.Live;
                total = entry.Total;
                sequence = Interlocked.Increment(ref _sequence);
            }

            writes.Add(WriteAsync(id, entry, sequence, live, total));
        }

        var results = await Task.WhenAll(writes);
        return results.All(ok => ok);
    }

    private void Change(Guid connectionId, int live, int total)
    {
        while (true)
        {
            var entry = _entries.GetOrAdd(connectionId, static _ => new Entry());
            lock (entry)
            {
                if (entry.Removed)
                {
                    continue;
                }

                entry.Live += live;
                entry.Total += total;
                entry.Dirty = true;
                break;
            }
        }

        _signal.Writer.TryWrite(true);
    }

    private async Task<bool> WriteAsync(Guid connectionId, Entry entry, long sequence, long live, long total)
    {
        long expiresMs;
        try
        {
            var db = (await connections.Side).GetDatabase();
            expiresMs = (long)await db.ScriptEvaluateAsync(FlushScript, [keys.Connection(connectionId)], [_field, sequence, Math.Max(0, live), total]);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            RedisLog.CountsNotWritten(logger, exception.GetType().Name);
            lock (entry)
            {
                entry.Dirty = true;
            }

            return false;
        }

        lock (entry)
        {
            entry.ExpiresMs = expiresMs;
        }

        return true;
    }

    /// <summary>Forgets leases that expired (or whose record is gone) with no live attach here and nothing to write.</summary>
    private void Sweep()
    {
        var before = (time.GetUtcNow() - ExpiryMargin).ToUnixTimeMilliseconds();
        foreach (var (id, entry) in _entries)
        {
            lock (entry)
            {
                if (!entry.Dirty && entry.Live <= 0 && entry.ExpiresMs is { } expires && expires < before)
                {
                    entry.Removed = true;
                    _entries.TryRemove(KeyValuePair.Create(id, entry));
                }
            }
        }
    }

    private sealed class Entry
    {
        public long Live;
        public long Total;
        public bool Dirty;
        public bool Removed;

        /// <summary>The lease's expiry as the last write found it; -1: the record is gone; null: not written yet.</summary>
        public long? ExpiresMs;
    }
}
