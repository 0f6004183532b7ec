namespace Bctrl.Relay.Tests;

/// <summary>
/// Measures what a piece of code allocates on the current thread. The runtime itself may allocate once on a thread
/// while a test runs (tiered compilation swapping in optimised code, a first-time type load); that lands in one window
/// and not the next. A real per-call allocation lands in every window, so the least of a few windows is the figure.
/// </summary>
internal static class Allocations
{
    public static long LeastOf(int windows, Action window)
    {
        var least = long.MaxValue;
        for (var i = 0; i < windows && least != 0; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            window();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }
}
