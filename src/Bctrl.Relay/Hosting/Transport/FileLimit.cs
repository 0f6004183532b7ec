using System.Globalization;

namespace Bctrl.Relay.Hosting.Transport;

/// <summary>The process's limit on open file descriptors (its soft <c>RLIMIT_NOFILE</c>), where the system says.</summary>
internal static class FileLimit
{
    /// <summary>
    /// Read from <c>/proc/self/limits</c> ("Max open files  SOFT  HARD  files") on Linux: no interop, and it is the
    /// value in force (.NET raises the soft limit to the hard one at startup). Null elsewhere or when unlimited.
    /// </summary>
    public static long? Current()
    {
        try
        {
            if (!File.Exists("/proc/self/limits"))
            {
                return null;
            }

            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) ? soft : null;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }
}
