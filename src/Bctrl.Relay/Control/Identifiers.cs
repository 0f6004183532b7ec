namespace Bctrl.Relay.Control;

internal static class Identifiers
{
    /// <summary>Runtime ids travel inside lease tokens and URLs: ASCII letters, digits, '.', '_', '-', 1 to 64 of them.</summary>
    public static bool IsValidRuntimeId(string? id) => IsSimple(id, 64);

    /// <summary>Chromium target ids are 32 hex digits; anything path-safe up to 128 is let through.</summary>
    public static bool IsValidTargetId(string? id) => IsSimple(id, 128);

    private static bool IsSimple(string? id, int maxLength)
    {
        if (string.IsNullOrEmpty(id) || id.Length > maxLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return id is not ("." or "..");
    }
}
