namespace Bctrl.Relay.Load;

/// <summary>
/// A process (or a master and its workers) that a target's traffic passes through: a relay, nginx or HAProxy. The tool
/// reads its CPU and memory from /proc, so every proxy is measured the same way.
/// </summary>
internal interface IProxyProcess : IAsyncDisposable
{
    /// <summary>The target's name: <c>relay-pipes</c>, <c>nginx</c>, <c>haproxy</c>…</summary>
    string Name { get; }

    bool HasExited { get; }

    /// <summary>User plus system CPU seconds of every process of the proxy so far; null when it is gone.</summary>
    double? CpuSeconds();

    /// <summary>
    /// Resident memory of the processes that hold the connections (<c>VmRSS</c>): the relay's process, HAProxy's
    /// process, nginx's workers (not its master, which holds none).
    /// </summary>
    long? RssBytes();

    /// <summary>The last lines it printed, for a report of an unexpected exit.</summary>
    IReadOnlyList<string> Tail();
}
