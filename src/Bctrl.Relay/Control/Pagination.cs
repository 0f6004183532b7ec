using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Bctrl.Relay.Control;

/// <summary>
/// <c>limit</c> and <c>cursor</c> on the list endpoints (docs/api.md, "Pagination"). Keyset paging: each list has one
/// total order (its <see cref="PageOrder{T}"/>), a page is the first <c>limit</c> items after the cursor's key in that
/// order, and the cursor names the last item's key. Nothing is held between calls, so a cursor works on any node of a
/// fleet and with either store, items created or deleted between pages neither repeat nor shift the rest, and a
/// stale cursor is simply a key to start after.
/// </summary>
internal static class Pagination
{
    public const int DefaultLimit = 100;

    public const int MaxLimit = 1000;

    /// <summary>Reads <c>limit</c> and <c>cursor</c>; a bad value is 400 <c>invalid_query</c>.</summary>
    public static ApiError? TryRead<T>(HttpRequest request, PageOrder<T> order, out PageRequest<T> page)
    {
        page = default;
        var limit = DefaultLimit;
        var limitValues = request.Query["limit"];
        if (limitValues.Count > 0)
        {
            if (limitValues.Count > 1 || !int.TryParse(limitValues[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit)
                || limit is < 1 or > MaxLimit)
            {
                return ApiError.InvalidQuery.With($"limit must be a whole number from 1 to {MaxLimit}.");
            }
        }

        string? after = null;
        var cursorValues = request.Query["cursor"];
        if (cursorValues.Count > 1 || (cursorValues.Count == 1 && !string.IsNullOrEmpty(cursorValues[0]) && (!TryDecode(cursorValues[0]!, order.Kind, out after) || !order.IsValidKey(after!))))
        {
            return ApiError.InvalidQuery.With("cursor must be the nextCursor of a previous page of this list.");
        }

        page = new PageRequest<T>(limit, after, order);
        return null;
    }

    private static bool TryDecode(string cursor, char kind, out string? key)
    {
        key = null;
        // Base64Url's Try methods throw on characters outside the alphabet; they return false only for a short buffer.
        if (!Base64Url.IsValid(cursor))
        {
            return false;
        }

        var bytes = new byte[Base64Url.GetMaxDecodedLength(cursor.Length)];
        if (!Base64Url.TryDecodeFromChars(cursor, bytes, out var written) || written < 2 || bytes[0] != kind || bytes[1] != ':')
        {
            return false;
        }

        try
        {
            key = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 2, written - 2);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    public static string Encode(char kind, string key) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{kind}:{key}"));
}
