using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

/// <summary>
/// Keeps the revocation view and the runtime mirror fresh (docs/design.md §5): subscribe to the channel first, then read a
/// snapshot, then apply the versioned messages in order; read the snapshot again after a reconnect, a version gap, a new
/// epoch or a dropped message. One loop does all of it, so the view changes in one order. A ping of this node through
/// the channel every <see cref="RedisStateSettings.ConfirmInterval"/> confirms the view: it comes back carrying the
/// version current when it was sent, and if the node has applied that version, its view was complete at that moment.
/// </summary>
internal sealed partial class FleetSync : IAsyncDisposable
{
    /// <summary>Messages waiting for the loop; more means the loop fell far behind, and a snapshot is cheaper.</summary>
    private const int InboxCapacity = 65_536;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan StopBound = TimeSpan.FromSeconds(2);

    private readonly RedisConnections _connections;
    private readonly RedisKeys _keys;
    private readonly FleetWriter _writer;
    private readonly RedisRevocationView _view;
    private readonly RedisRuntimeStore _runtimes;
    private readonly FleetVersion _version;
    private readonly RedisStateSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<RedisValue> _inbox = Channel.CreateBounded<RedisValue>(
        new BoundedChannelOptions(InboxCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    private readonly long[] _resyncs = new long[Enum.GetValues<ResyncReason>().Length];
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private Task _pinger = Task.CompletedTask;
    private ConnectionMultiplexer? _state;
    private ChannelMessageQueue? _queue;
    private int _resyncRequested;
    private int _resyncReason;

    // Owned by the loop.
    private string? _epoch;
    private long _applied;
    private bool _synced;
    private bool _failing;

    public FleetSync(
        RedisConnections connections,
        RedisKeys keys,
        FleetWriter writer,
        RedisRevocationView view,
        RedisRuntimeStore runtimes,
        FleetVersion version,
        RedisStateSettings settings,
        TimeProvider time,
        ILogger logger)
    {
        _connections = connections;
        _keys = keys;
        _writer = writer;
        _view = view;
        _runtimes = runtimes;
        _version = version;
        _settings = settings;
        _time = time;
        _logger = logger;
    }

    /// <summary>Whether the loop holds a snapshot and follows the channel.</summary>
    public bool Synced => Volatile.Read(ref _synced);

    public long Resyncs(ResyncReason reason) => Volatile.Read(ref _resyncs[(int)reason]);

    public void Start()
    {
        _loop = Task.Run(() => RunAsync(_stop.Token));
        _pinger = Task.Run(() => PingLoopAsync(_stop.Token));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        try
        {
            // A snapshot in flight against a hung Redis ends with its timeout; shutdown does not wait for that.
            await Task.WhenAll(_loop, _pinger).WaitAsync(StopBound, _time);
        }
        catch (TimeoutException)
        {
            // The loop ends on its own once the call times out.
        }

        if (_state is not null)
        {
            _state.ConnectionRestored -= OnConnectionRestored;
            _state.ConnectionFailed -= OnConnectionFailed;
        }

        if (_queue is not null)
        {
            try
            {
                await _queue.UnsubscribeAsync();
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException or ObjectDisposedException)
            {
                // The connection goes away with the node.
            }
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            _state = await _connections.State.WaitAsync(cancellationToken);
            _state.ConnectionRestored += OnConnectionRestored;
            _state.ConnectionFailed += OnConnectionFailed;
            var reason = ResyncReason.Start;
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    if (_queue is null)
                    {
                        // Subscribe first, then snapshot: a change made after the snapshot arrives as a message.
                        _queue = await _state.GetSubscriber().SubscribeAsync(_keys.Channel);
                        _queue.OnMessage(OnMessage);
                    }

                    if (Interlocked.Exchange(ref _resyncRequested, 0) != 0)
                    {
                        reason = (ResyncReason)Volatile.Read(ref _resyncReason);
                        Volatile.Write(ref _synced, false);
                    }

                    if (!_synced)
                    {
                        await ResyncAsync(reason);
                    }

                    Handle(await _inbox.Reader.ReadAsync(cancellationToken));
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // Once per outage at Warning; the retries (four a second) at Debug.
                    if (_synced || !_failing)
                    {
                        RedisLog.SyncFailed(_logger, exception.GetType().Name, exception.Message);
                    }
                    else
                    {
                        RedisLog.SyncStillFailing(_logger, exception.GetType().Name);
                    }

                    _failing = true;
                    Volatile.Write(ref _synced, false);
                    await Task.Delay(RetryDelay, _time, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private void OnMessage(ChannelMessage message)
    {
        if (!_inbox.Writer.TryWrite(message.Message))
        {
            RequestResync(ResyncReason.Overflow);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs args)
    {
        RedisLog.ConnectionRestored(_logger, args.ConnectionType.ToString());
        RequestResync(ResyncReason.Reconnect);
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs args)
        => RedisLog.ConnectionFailed(_logger, args.ConnectionType.ToString(), args.FailureType.ToString());

    /// <summary>Asks the loop for a snapshot before the next message; wakes it if it waits.</summary>
    private void RequestResync(ResyncReason reason)
    {
        Volatile.Write(ref _resyncReason, (int)reason);
        Volatile.Write(ref _resyncRequested, 1);
        _inbox.Writer.TryWrite(RedisValue.Null);
    }
}
