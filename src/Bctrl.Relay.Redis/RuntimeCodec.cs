using System.Globalization;
using Bctrl.Relay.State;
using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

/// <summary>A runtime as stored and published: <c>"createdAtUnixMs cdpUrl"</c> (an absolute URI has no spaces).</summary>
internal static class RuntimeCodec
{
    public static string Encode(RuntimeRecord runtime)
        => runtime.CreatedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + " " + runtime.CdpUrl.AbsoluteUri;

    public static bool TryDecode(string id, RedisValue value, out RuntimeRecord record)
        => TryDecode(id, (string?)value, out record);

    public static bool TryDecode(string id, string? value, out RuntimeRecord record)
    {
        record = null!;
        var space = value?.IndexOf(' ', StringComparison.Ordinal) ?? -1;
        if (space <= 0
            || !long.TryParse(value.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var createdMs)
            || !Uri.TryCreate(value![(space + 1)..], UriKind.Absolute, out var cdpUrl))
        {
            return false;
        }

        record = new RuntimeRecord(id, cdpUrl, DateTimeOffset.FromUnixTimeMilliseconds(createdMs));
        return true;
    }
}
