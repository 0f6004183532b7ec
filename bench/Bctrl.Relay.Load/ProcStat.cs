using System.Globalization;
using System.Runtime.InteropServices;

namespace Bctrl.Relay.Load;

/// <summary>
/// CPU time of a process from <c>/proc/&lt;pid&gt;/stat</c> (proc(5): field 14 <c>utime</c> and 15 <c>stime</c>, in clock
/// ticks of <c>sysconf(_SC_CLK_TCK)</c>). The relay runs as its own process so its CPU can be told apart from the load
/// tool's and the fake runtime's, which share this one.
/// </summary>
internal static partial class ProcStat
{
    private const int ScClkTck = 2; // _SC_CLK_TCK on Linux (glibc and musl)

    private static readonly double s_ticksPerSecond = ReadTicksPerSecond();

    public static bool IsSupported { get; } = File.Exists("/proc/self/stat");

    /// <summary>User plus system CPU seconds the process has used so far; null when it is gone or /proc is missing.</summary>
    public static double? CpuSeconds(int processId)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{processId}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        // The command name (field 2) is in parentheses and may hold spaces: fields are counted from the last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        if (fields.Length < 13)
        {
            return null;
        }

        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (utime + stime) / s_ticksPerSecond;
    }

    /// <summary>
    /// Busy CPU seconds of the whole machine so far (<c>/proc/stat</c> line <c>cpu</c>: user, nice, system, irq, softirq,
    /// steal). Minus this tool's and the relays' own, it shows how much other work on the machine disturbed a window.
    /// </summary>
    public static double? MachineBusySeconds()
    {
        string? line;
        try
        {
            using var reader = new StreamReader("/proc/stat");
            line = reader.ReadLine();
        }
        catch (IOException)
        {
            return null;
        }

        var fields = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields is null || fields.Length < 9 || fields[0] != "cpu")
        {
            return null;
        }

        long busy = 0;
        foreach (var index in (int[])[1, 2, 3, 6, 7, 8])
        {
            busy += long.Parse(fields[index], CultureInfo.InvariantCulture);
        }

        return busy / s_ticksPerSecond;
    }

    /// <summary>Resident set size (<c>VmRSS</c> of <c>/proc/&lt;pid&gt;/status</c>) in bytes; null when the process is gone.</summary>
    public static long? RssBytes(int processId)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{processId}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kib = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return null;
    }

    /// <summary>The processes whose parent is <paramref name="processId"/> (field 4 of <c>/proc/&lt;pid&gt;/stat</c>).</summary>
    public static int[] ChildProcessIds(int processId)
    {
        var children = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var text = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                if (fields.Length > 1 && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parent) && parent == processId)
                {
                    children.Add(pid);
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile.
            }
        }

        return [.. children];
    }

    /// <summary>The soft and hard limits on open files of this process (<c>/proc/self/limits</c>, "Max open files").</summary>
    public static (long Soft, long Hard)? OpenFileLimits()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var parts = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    static long Parse(string text) => text == "unlimited" ? long.MaxValue : long.Parse(text, CultureInfo.InvariantCulture);
                    return (Parse(parts[0]), Parse(parts[1]));
                }
            }
        }
        catch (IOException)
        {
            return null;
        }

        return null;
    }

    /// <summary>Sends SIGTERM (the relay drains and stops, like under Kubernetes) to a process this tool started.</summary>
    public static bool Terminate(int processId) => Kill(processId, 15) == 0;

    private static double ReadTicksPerSecond()
    {
        try
        {
            var ticks = SysConf(ScClkTck);
            return ticks > 0 ? ticks : 100;
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            return 100; // USER_HZ on every Linux build in practice
        }
    }

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long SysConf(int name);

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int processId, int signal);
}
