namespace Bctrl.Relay.Loops;

/// <summary>
/// The relay transport's I/O loops (docs/design.md §11): a small fixed number of threads, one per core unless
/// configured, each with its own <c>epoll</c> set. A new connection goes to the next loop in turn and stays there:
/// its HTTP phase, its runtime dial and its splice all run on that one loop, so an attach never crosses threads.
/// </summary>
internal sealed class IoLoops : IDisposable
{
    private readonly IoLoop[] _loops;
    private int _next = -1;

    public IoLoops(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _loops = new IoLoop[count];
        for (var i = 0; i < count; i++)
        {
            _loops[i] = new IoLoop(i);
        }
    }

    /// <summary>One per core, or <paramref name="configured"/> when it is above 0.</summary>
    public static int CountFor(int configured) => configured > 0 ? configured : Environment.ProcessorCount;

    public IReadOnlyList<IoLoop> All => _loops;

    public IoLoop Next() => _loops[(int)((uint)Interlocked.Increment(ref _next) % (uint)_loops.Length)];

    public void Dispose()
    {
        foreach (var loop in _loops)
        {
            loop.Dispose();
        }
    }
}
