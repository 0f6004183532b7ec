using System.Diagnostics;

namespace Bctrl.Relay.Load;

/// <summary>
/// Round-trip latencies in <see cref="Stopwatch"/> ticks, counted in fixed log-linear buckets: 32 linear buckets per
/// power of two (every value within 1/32, about 3 %, of its bucket's low edge), up to 2^40 ticks (18 minutes at the
/// nanosecond ticks of Linux). One per attach loop, written by that loop alone without allocating, merged by the runner
/// once the loops have stopped.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 5;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int MaxBits = 40;

    /// <summary>Values below <see cref="SubBuckets"/> get a bucket each; every power of two above gets <see cref="SubBuckets"/>.</summary>
    private const int BucketCount = (MaxBits - SubBucketBits + 1) * SubBuckets;

    private readonly long[] _counts = new long[BucketCount];

    public long Count { get; private set; }

    public void Record(long ticks)
    {
        _counts[Index(Math.Clamp(ticks, 0, (1L << MaxBits) - 1))]++;
        Count++;
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < BucketCount; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
    }

    /// <summary>The value at <paramref name="quantile"/> (0.99: the 99th percentile) in microseconds, the middle of its bucket; null when empty.</summary>
    public double? Microseconds(double quantile)
    {
        if (Count == 0)
        {
            return null;
        }

        // The smallest value with at least ceil(q · n) values at or below it (the nearest-rank percentile).
        var rank = Math.Max(1, (long)Math.Ceiling(quantile * Count));
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                var (low, width) = Bounds(i);
                return (low + (width - 1) / 2.0) * 1e6 / Stopwatch.Frequency;
            }
        }

        return null;
    }

    /// <summary>Below <see cref="SubBuckets"/>, the value itself; above, its power of two and the next <see cref="SubBucketBits"/> bits.</summary>
    private static int Index(long value)
    {
        if (value < SubBuckets)
        {
            return (int)value;
        }

        var octave = 63 - (int)long.LeadingZeroCount(value) - SubBucketBits; // 0 for [32, 64), 1 for [64, 128), …
        var sub = (int)(value >> octave) - SubBuckets;
        return SubBuckets + (octave * SubBuckets) + sub;
    }

    private static (long Low, long Width) Bounds(int index)
    {
        if (index < SubBuckets)
        {
            return (index, 1);
        }

        var octave = (index / SubBuckets) - 1;
        return ((long)(SubBuckets + (index % SubBuckets)) << octave, 1L << octave);
    }
}
