using System.Runtime.InteropServices;

namespace Bctrl.Relay.Load;

/// <summary>
/// Raises this process's <c>RLIMIT_NOFILE</c>, soft and hard, before any child starts: the relays, nginx and HAProxy
/// inherit it, and the idle scenarios need two descriptors per attach here (the client's end and the fake runtime's)
/// and two in the proxy. Raising the hard limit takes <c>CAP_SYS_RESOURCE</c> (root has it, unless a container dropped it); without it the
/// limits stay as they are.
/// </summary>
internal static partial class OpenFileLimit
{
    /// <summary>What the tool asks for: room for 20,000 idle attaches several times over, well inside Linux's <c>nr_open</c> (1,048,576 by default).</summary>
    public const long Wanted = 200_000;

    private const int RlimitNofile = 7; // RLIMIT_NOFILE on Linux (every architecture .NET runs on)
    private const ulong Infinity = ulong.MaxValue; // RLIM_INFINITY

    /// <summary>Raises both limits to at least <paramref name="wanted"/>; returns the soft limit in force afterwards (null: unknown).</summary>
    public static long? Raise(long wanted)
    {
        if (ProcStat.OpenFileLimits() is not { } current)
        {
            return null;
        }

        if (current.Soft >= wanted)
        {
            return current.Soft;
        }

        var limit = new RLimit
        {
            Current = (ulong)wanted,
            Maximum = current.Hard == long.MaxValue ? Infinity : (ulong)Math.Max(wanted, current.Hard),
        };
        try
        {
            // Fails with EPERM when the hard limit would rise without CAP_SYS_RESOURCE; the limits then stay as they were.
            _ = SetRLimit(RlimitNofile, limit);
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            return current.Soft;
        }

        return ProcStat.OpenFileLimits()?.Soft;
    }

    [LibraryImport("libc", EntryPoint = "setrlimit")]
    private static partial int SetRLimit(int resource, in RLimit limit);

    /// <summary><c>struct rlimit</c>: two <c>rlim_t</c> (unsigned 64-bit on 64-bit Linux).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }
}
