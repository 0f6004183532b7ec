using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

/// <summary>
/// Everything a node keeps in Redis, built once per process (per relay, in tests): the two multiplexers, the stores, the
/// revocation view and the loops that keep it fresh and write attach counts. <see cref="Start"/> returns at once; the
/// node is not ready until the first snapshot.
/// </summary>
internal sealed class RedisFleet : IAsyncDisposable
{
    private static readonly TimeSpan StopBound = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _stop = new();
    private readonly RedisStateSettings _settings;
    private readonly TimeProvider _time;
    private Task _counter = Task.CompletedTask;
    private int _stopped;

    public RedisFleet(RedisStateSettings settings, TimeProvider time, ILoggerFactory loggers)
    {
        _settings = settings;
        _time = time;
        var logger = loggers.CreateLogger("Bctrl.Relay.Redis");
        NodeId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        Connections = new RedisConnections(settings.Configuration);
        Keys = new RedisKeys(settings.KeyPrefix);
        var writer = new FleetWriter(Connections, Keys, NodeId, time);
        var version = new FleetVersion();

        // Reads on the attach path are bounded by the staleness limit, and by a second at most.
        var readBound = settings.MaxStaleness < TimeSpan.FromSeconds(1) ? settings.MaxStaleness : TimeSpan.FromSeconds(1);
        Revocations = new RedisRevocationView(writer, time, settings.RevocationGrace, logger);
        Runtimes = new RedisRuntimeStore(Connections, Keys, writer, version, time, readBound);
        AttachCounts = new NodeAttachCounts(Connections, Keys, NodeId, time, settings.ConfirmInterval, logger);
        ConnectionStore = new RedisConnectionStore(Connections, Keys, AttachCounts, settings, time, readBound);
        Sync = new FleetSync(Connections, Keys, writer, Revocations, Runtimes, version, settings, time, logger);
    }

    /// <summary>Random for each process, so that a restarted node never inherits a dead one's counts.</summary>
    public string NodeId { get; }

    public RedisConnections Connections { get; }

    public RedisKeys Keys { get; }

    public RedisRevocationView Revocations { get; }

    public RedisRuntimeStore Runtimes { get; }

    public RedisConnectionStore ConnectionStore { get; }

    public NodeAttachCounts AttachCounts { get; }

    public FleetSync Sync { get; }

    public void Start()
    {
        Sync.Start();
        _counter = Task.Run(() => AttachCounts.RunAsync(_stop.Token));
    }

    /// <summary>Writes the last counts, leaves the fleet's node list and stops the loops; bounded, never throws.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync();
        await _counter;
        try
        {
            await AttachCounts.FlushAsync().WaitAsync(StopBound, _time);
            var db = (await Connections.Side.WaitAsync(StopBound, _time)).GetDatabase();
            await db.SortedSetRemoveAsync(Keys.Nodes, NodeId).WaitAsync(StopBound, _time);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // Redis is away: this node's counts stop counting after the node timeout.
        }

        await Sync.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await Connections.DisposeAsync();
        _stop.Dispose();
    }
}
