using System.Globalization;
using Bctrl.Relay.State;
using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

/// <summary>The revocation view and the runtimes as one <see cref="FleetScripts.Snapshot"/> read them.</summary>
internal sealed record FleetSnapshot(
    string Epoch,
    long Version,
    Dictionary<Guid, Revocation> Revocations,
    Dictionary<string, RuntimeRecord> Runtimes)
{
    public static FleetSnapshot Parse(RedisResult result)
    {
        var parts = (RedisResult[])result!;
        var revoked = (RedisValue[])parts[2]!;
        var terminated = (RedisValue[])parts[3]!;
        var runtimes = (RedisValue[])parts[4]!;

        var terminatedIds = new HashSet<Guid>(terminated.Length);
        foreach (var id in terminated)
        {
            if (TryParseId(id, out var connectionId))
            {
                terminatedIds.Add(connectionId);
            }
        }

        var revocations = new Dictionary<Guid, Revocation>(revoked.Length / 2);
        for (var i = 0; i + 1 < revoked.Length; i += 2)
        {
            if (TryParseId(revoked[i], out var connectionId))
            {
                var pruneAfter = (long)(double)revoked[i + 1];
                revocations[connectionId] = new Revocation(pruneAfter, terminatedIds.Contains(connectionId));
            }
        }

        var records = new Dictionary<string, RuntimeRecord>(runtimes.Length / 2, StringComparer.Ordinal);
        for (var i = 0; i + 1 < runtimes.Length; i += 2)
        {
            var id = (string)runtimes[i]!;
            if (RuntimeCodec.TryDecode(id, runtimes[i + 1], out var record))
            {
                records[id] = record;
            }
        }

        return new FleetSnapshot((string)parts[0]!, long.Parse((string)parts[1]!, CultureInfo.InvariantCulture), revocations, records);
    }

    public static bool TryParseId(RedisValue value, out Guid connectionId)
        => Guid.TryParseExact((string?)value, "N", out connectionId);
}
