namespace Bctrl.Relay.Tests;

/// <summary>
/// Measures what a piece of code allocates on the current thread. The runtime itself may allocate once on a thread
/// while a test runs (tiered compilation swapping in optimised code, a first-time type load); that lands in one window
/// and not the next. A real per-call allocation lands in every window, so the least of a few windows is the figure.
/// Callers give eight: on a loaded machine three windows in a row have held the JIT's work (240 B in CI's dry run).
/// </summary>
internal static class Allocations
{
    public static long LeastOf(int windows, Action window)
    {
        var least = long.MaxValue;
        for (var i = 0; i < windows && least != 0; i++)
        {
            if (i > 0)
            {
                // A window that allocated may have run while the JIT was still moving the code to its next tier (a
                // tier-up waits 100 ms without new tier-0 work, and on a loaded machine its compile waits longer):
                // give the background compiler time before the next window.
                Thread.Sleep(250);
            }

            var before = GC.GetAllocatedBytesForCurrentThread();
            window();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }
}
