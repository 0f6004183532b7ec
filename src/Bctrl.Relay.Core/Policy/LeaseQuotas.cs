using System.Globalization;

namespace Bctrl.Relay.Policy;

/// <summary>
/// A lease's quotas (docs/quotas.md): commands per second (a token bucket per lease and node; a command over the rate
/// is answered with a CDP error, never dropped), concurrent attaches (across the fleet), the longest an attach may last
/// and the bytes one attach may move. Each is optional; null means no limit.
/// </summary>
internal sealed record LeaseQuotas(int? CommandsPerSecond, int? MaxAttaches, int? MaxAttachSeconds, long? MaxBytes)
{
    public const int MaxCommandsPerSecond = 100_000;
    public const int MaxMaxAttaches = 10_000;
    public const long MinMaxBytes = 1024;

    private static readonly ParsedTextCache<LeaseQuotas> s_byText = new(TryParseText);

    /// <summary>The stored form (a connection record's field), read back by <see cref="TryParseText"/>.</summary>
    public string Text => string.Create(CultureInfo.InvariantCulture, $"c={CommandsPerSecond};a={MaxAttaches};s={MaxAttachSeconds};b={MaxBytes}");

    /// <summary>Whether the splice must read each command (a rate to keep).</summary>
    public bool LimitsCommands => CommandsPerSecond is not null;

    /// <summary>Builds quotas from a request's fields, or says what is wrong; <paramref name="maxAttachSeconds"/> may not pass <paramref name="longest"/>.</summary>
    public static LeaseQuotas? Create(int? commandsPerSecond, int? maxAttaches, int? maxAttachSeconds, long? maxBytes, TimeSpan longest, out string? error)
    {
        error = (commandsPerSecond, maxAttaches, maxAttachSeconds, maxBytes) switch
        {
            (null, null, null, null) => "quotas must set at least one of commandsPerSecond, maxAttaches, maxAttachSeconds, maxBytes.",
            ( < 1 or > MaxCommandsPerSecond, _, _, _) => $"quotas.commandsPerSecond must be 1 to {MaxCommandsPerSecond}.",
            (_, < 1 or > MaxMaxAttaches, _, _) => $"quotas.maxAttaches must be 1 to {MaxMaxAttaches}.",
            (_, _, < 1, _) => "quotas.maxAttachSeconds must be at least 1.",
            (_, _, _, < MinMaxBytes) => $"quotas.maxBytes must be at least {MinMaxBytes}.",
            _ when maxAttachSeconds > longest.TotalSeconds => $"quotas.maxAttachSeconds must be at most {(long)longest.TotalSeconds} (Relay:Connections:MaxTtl).",
            _ => null,
        };
        return error is null ? new LeaseQuotas(commandsPerSecond, maxAttaches, maxAttachSeconds, maxBytes) : null;
    }

    /// <summary>The quotas a record carries (<see cref="Text"/>), parsed once per distinct text; null for none or an unreadable text.</summary>
    public static LeaseQuotas? FromText(string? text) => s_byText.Get(text);

    public static LeaseQuotas? TryParseText(string? text)
    {
        var parts = text?.Split(';');
        if (parts is not { Length: 4 } || !parts[0].StartsWith("c=", StringComparison.Ordinal) || !parts[1].StartsWith("a=", StringComparison.Ordinal)
            || !parts[2].StartsWith("s=", StringComparison.Ordinal) || !parts[3].StartsWith("b=", StringComparison.Ordinal))
        {
            return null;
        }

        if (!TryInt(parts[0][2..], out var commands) || !TryInt(parts[1][2..], out var attaches) || !TryInt(parts[2][2..], out var seconds))
        {
            return null;
        }

        long? bytes = null;
        if (parts[3].Length > 2)
        {
            if (!long.TryParse(parts[3][2..], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }

            bytes = value;
        }

        return Create(commands, attaches, seconds, bytes, TimeSpan.MaxValue, out _);

        static bool TryInt(string value, out int? parsed)
        {
            parsed = null;
            if (value.Length == 0)
            {
                return true;
            }

            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            parsed = number;
            return true;
        }
    }
}

/// <summary>
/// A lease's command rate on one node: a token bucket of <c>rate</c> tokens that refills at <c>rate</c> per second,
/// shared by the lease's attaches on the node (<see cref="CommandRates"/>). One short uncontended lock per command.
/// </summary>
internal sealed class CommandBucket(int rate, Func<long> nowTicks, long ticksPerSecond)
{
    private readonly Lock _gate = new();

    // Tokens scaled by ticksPerSecond, so refills are integer arithmetic: one token is ticksPerSecond units.
    private long _units = rate * ticksPerSecond;
    private long _stamp = nowTicks();

    public int Rate { get; } = rate;

    internal int Users;

    /// <summary>Takes a token; false when the lease is over its rate.</summary>
    public bool TryTake()
    {
        lock (_gate)
        {
            var now = nowTicks();
            _units = Math.Min(Rate * ticksPerSecond, _units + (Math.Min(now - _stamp, ticksPerSecond) * Rate)); // a second refills it all
            _stamp = now;
            if (_units < ticksPerSecond)
            {
                return false;
            }

            _units -= ticksPerSecond;
            return true;
        }
    }
}

/// <summary>The command buckets of the leases with a rate that have attaches on this node, by connection id.</summary>
internal sealed class CommandRates(TimeProvider time)
{
    private readonly Dictionary<Guid, CommandBucket> _buckets = [];

    /// <summary>The lease's bucket, made by its first attach on this node; give it back with <see cref="Release"/>.</summary>
    public CommandBucket Take(Guid connectionId, int rate)
    {
        lock (_buckets)
        {
            if (!_buckets.TryGetValue(connectionId, out var bucket))
            {
                bucket = new CommandBucket(rate, time.GetTimestamp, time.TimestampFrequency);
                _buckets[connectionId] = bucket;
            }

            bucket.Users++;
            return bucket;
        }
    }

    /// <summary>An attach ended: the bucket goes with the lease's last attach on this node.</summary>
    public void Release(Guid connectionId)
    {
        lock (_buckets)
        {
            if (_buckets.TryGetValue(connectionId, out var bucket) && --bucket.Users == 0)
            {
                _buckets.Remove(connectionId);
            }
        }
    }
}
