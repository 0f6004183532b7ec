using System.Globalization;

namespace Bctrl.Relay.Redis;

/// <summary>
/// One message on the fleet channel, as <see cref="FleetScripts"/> publish them: <c>kind epoch version node fields…</c>.
/// <code>
/// r EPOCH VERSION NODE CONNECTION_ID PRUNE_AFTER TERMINATE   a revocation (TERMINATE 0/1)
/// u EPOCH VERSION NODE RUNTIME_ID CREATED_MS CDP_URL         a runtime created or replaced
/// d EPOCH VERSION NODE RUNTIME_ID                            a runtime deleted
/// b EPOCH VERSION NODE                                       a bulk change: resync
/// p EPOCH VERSION NODE SEQUENCE                              a ping; VERSION is the current one, not a new one
/// </code>
/// The channel carries control-plane changes only (a few per lease), so parsing allocates freely.
/// </summary>
internal readonly record struct FleetMessage(char Kind, string Epoch, long Version, string Node, string[] Fields)
{
    public const char Revoked = 'r';
    public const char RuntimePut = 'u';
    public const char RuntimeDeleted = 'd';
    public const char Bulk = 'b';
    public const char Ping = 'p';

    public static bool TryParse(string? text, out FleetMessage message)
    {
        message = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        // The runtime value is "CREATED_MS CDP_URL" and a URL has no spaces, so seven parts hold every kind.
        var parts = text.Split(' ', 7);
        if (parts.Length < 4 || parts[0].Length != 1
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            return false;
        }

        var kind = parts[0][0];
        var expected = kind switch
        {
            Revoked => 7,
            RuntimePut => 7,
            RuntimeDeleted => 5,
            Bulk => 4,
            Ping => 5,
            _ => -1,
        };
        if (parts.Length != expected)
        {
            return false;
        }

        message = new FleetMessage(kind, parts[1], version, parts[3], parts[4..]);
        return true;
    }
}
