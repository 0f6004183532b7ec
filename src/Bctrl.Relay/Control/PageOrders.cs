using System.Globalization;
using Bctrl.Relay.Observation;
using Bctrl.Relay.State;

namespace Bctrl.Relay.Control;

/// <summary>
/// The order of each paged list (docs/api.md, "Pagination"), the same the stores list in: runtimes by id; connections
/// newest first (created, then id, both descending); attaches oldest first (opened, then attach id). Each key is text
/// whose ordinal order is that order: descending parts are written complemented.
/// </summary>
internal static class PageOrders
{
    public static PageOrder<RuntimeRecord> Runtimes { get; } = new('r', r => r.Id, Identifiers.IsValidRuntimeId);

    public static PageOrder<ConnectionRecord> Connections { get; } = new('c', ConnectionKey, key => IsDigitsDotHex(key, 19, 32));

    public static PageOrder<AttachRecord> Attaches { get; } = new('a', AttachKey, key => IsDigitsDotHex(key, 19, 16));

    /// <summary>Artifacts oldest first: 19 digits of the creation time's UTC ticks, '.', the artifact id (32 hex digits).</summary>
    public static PageOrder<Bctrl.Relay.Artifacts.ArtifactRecord> Artifacts { get; } = new(
        'f', a => string.Create(CultureInfo.InvariantCulture, $"{a.CreatedAt.UtcTicks:D19}.{a.Id}"), key => IsDigitsDotHex(key, 19, 32));

    /// <summary>
    /// 19 digits of <c>long.MaxValue</c> minus the creation time in milliseconds, '.', the id's 32 hex digits each
    /// complemented: ascending text is descending (created, id), Guid's own order being that of its "N" text.
    /// </summary>
    private static string ConnectionKey(ConnectionRecord record)
    {
        Span<char> id = stackalloc char[32];
        record.Id.TryFormat(id, out _, "N");
        for (var i = 0; i < id.Length; i++)
        {
            id[i] = "fedcba9876543210"[id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10];
        }

        var since = long.MaxValue - record.CreatedAt.ToUnixTimeMilliseconds();
        return string.Create(CultureInfo.InvariantCulture, $"{since:D19}.{id}");
    }

    /// <summary>19 digits of the opening time's UTC ticks, '.', the attach id as 16 hex digits with its sign bit flipped (signed order).</summary>
    private static string AttachKey(AttachRecord record)
        => string.Create(CultureInfo.InvariantCulture, $"{record.OpenedAt.UtcTicks:D19}.{(ulong)record.AttachId ^ 0x8000_0000_0000_0000UL:x16}");

    private static bool IsDigitsDotHex(string key, int digits, int hex)
        => key.Length == digits + 1 + hex
           && key.AsSpan(0, digits).ContainsAnyExcept("0123456789") is false
           && key[digits] == '.'
           && key.AsSpan(digits + 1).ContainsAnyExcept("0123456789abcdef") is false;
}
