namespace Bctrl.Relay.Hosting.Transport;

/// <summary>
/// How many client connections the node holds at once, per listener role, so that it runs out of neither file
/// descriptors nor memory (issue 8: 1,300 silent connections against a file limit of 1,200 took a node down).
/// </summary>
/// <remarks>
/// Derived from the file limit unless <c>Relay:Limits:MaxConnections</c> is set: <see cref="Reserve"/> descriptors are
/// kept for the process itself (assemblies, the event loop, logs), Redis, discovery requests and the management
/// listener, and the rest is halved, since every data-plane connection that becomes an attach also holds a socket to
/// its runtime. The management listener has its own small budget (<see cref="ManagementConnections"/>, inside the
/// reserve), so that health probes and scrapes still get through while the data plane is full.
/// </remarks>
internal sealed class ConnectionBudget
{
    /// <summary>
    /// Descriptors kept out of the data plane's share. Measured: a relay at rest holds about 190, two for each assembly
    /// the runtime has loaded (84 of them) and a few pipes, event loops and listeners; Redis, discovery requests, the
    /// management listener's <see cref="ManagementConnections"/> and the listeners' spare descriptor come on top.
    /// </summary>
    public const int Reserve = 512;

    /// <summary>Connections the management listener holds at once (probes, scrapes, control API clients).</summary>
    public const int ManagementConnections = 64;

    /// <summary>Where the file limit cannot be read (not Linux, or unlimited), before the memory bound.</summary>
    public const int FallbackConnections = 10_000;

    private int _dataPlane;
    private int _management;
    private long _refused;

    public ConnectionBudget(int dataPlaneLimit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dataPlaneLimit, 1);
        DataPlaneLimit = dataPlaneLimit;
    }

    public int DataPlaneLimit { get; }

    /// <summary>Data-plane connections held now.</summary>
    public int DataPlane => Volatile.Read(ref _dataPlane);

    /// <summary>Connections answered 503 <c>at_capacity</c> by a listener since the start.</summary>
    public long Refused => Volatile.Read(ref _refused);

    /// <summary>
    /// Memory allowed for each data-plane connection when the limit is derived: an idle attach holds about 22 KiB
    /// (bench/README.md) and a busy one its pipes' 64 KiB thresholds besides, so 64 KiB each keeps a node that is
    /// full of busy attaches inside its memory (a container's limit, where one is set).
    /// </summary>
    public const int BytesPerConnection = 64 * 1024;

    /// <summary>
    /// The data-plane limit for a configured value (0: derived), a file limit (null: unknown) and the memory the
    /// process may use (null: unknown). Derived: the smaller of half the descriptors left after <see cref="Reserve"/>
    /// and <see cref="BytesPerConnection"/> per connection, never below 16. Configured: that value, but never more than
    /// the file limit allows. The process must not run out of descriptors: the .NET runtime aborts ("Out of memory.",
    /// exit 134) when a thread it starts finds none (a new thread opens a pipe), whatever the relay does about it.
    /// </summary>
    public static int LimitFor(int configured, long? fileLimit, long? memoryBytes = null)
    {
        if (configured > 0)
        {
            return fileLimit is { } limit ? (int)Math.Min(configured, Math.Max(16, (limit - Reserve) / 2)) : configured;
        }

        var byFiles = fileLimit is { } files && files <= int.MaxValue ? (files - Reserve) / 2 : FallbackConnections;

        var byMemory = memoryBytes is > 0 ? memoryBytes.Value / BytesPerConnection : long.MaxValue;
        return (int)Math.Max(16, Math.Min(byFiles, byMemory));
    }

    /// <summary>Takes a place for a new connection; false when the role's limit is reached.</summary>
    public bool TryTake(bool management)
    {
        ref var count = ref management ? ref _management : ref _dataPlane;
        var limit = management ? ManagementConnections : DataPlaneLimit;
        if (Interlocked.Increment(ref count) <= limit)
        {
            return true;
        }

        Interlocked.Decrement(ref count);
        Interlocked.Increment(ref _refused);
        return false;
    }

    /// <summary>Counts a connection refused outside <see cref="TryTake"/> (no descriptor to serve it).</summary>
    public void CountRefused() => Interlocked.Increment(ref _refused);

    public void Release(bool management) => Interlocked.Decrement(ref management ? ref _management : ref _dataPlane);
}
