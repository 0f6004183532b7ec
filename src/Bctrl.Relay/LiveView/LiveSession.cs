using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Threading.Channels;
using Bctrl.Relay.Attach;
using Bctrl.Relay.Metrics;
using Bctrl.Relay.State;
using Bctrl.Relay.Tls;

namespace Bctrl.Relay.LiveView;

/// <summary>
/// The relay's own CDP session to a runtime, for every viewer of one live lease on this node (docs/live-view.md): it
/// attaches to the page being shown, runs one <c>Page.startScreencast</c> whatever the number of viewers, acks each
/// frame and offers it to every viewer's slot, follows the newest tab (and, when the shown tab closes, the most recently
/// active one left), and sends the viewers' input to the shown page.
/// It starts with the first viewer and stops when the last one leaves.
/// </summary>
/// <remarks>
/// Two pumps: <see cref="ReceiveAsync"/> reads the runtime (answers, frames, target events) and never waits on an
/// answer itself; <see cref="ControlAsync"/> issues the commands that need one (attach, start the screencast) in
/// reaction to the target events the receive pump hands it. A frame is acked as soon as it is read, so the runtime's
/// frame rate is its own and a slow viewer slows nobody else (its slot keeps only the newest frame).
/// </remarks>
internal sealed partial class LiveSession
{
    /// <summary>The largest frame asked of the runtime, in device pixels (Chromium keeps the page's aspect ratio inside it).</summary>
    public const int MaxFrameWidth = 1280;

    /// <inheritdoc cref="MaxFrameWidth"/>
    public const int MaxFrameHeight = 960;

    /// <summary>JPEG quality of the frames: about 30-60 KB for a 1280 x 720 page of text.</summary>
    public const int JpegQuality = 70;

    /// <summary>The largest message read from the runtime: a frame is a base64 JPEG, well under this.</summary>
    public const int MaxMessageBytes = 16 << 20;

    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    private readonly RuntimeRecord _runtime;
    private readonly RuntimeAddresses _addresses;
    private readonly RuntimeTrust _trust;
    private readonly LiveViewMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Action<LiveSession> _ended;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<int, TaskCompletionSource<System.Text.Json.JsonElement>> _pending = new();
    private readonly Channel<TargetEvent> _events = Channel.CreateBounded<TargetEvent>(
        new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true });

    private readonly Lock _viewersLock = new();
    private LiveViewer[] _viewers = [];
    private ClientWebSocket? _socket;
    private int _nextId;
    private long _frames;
    private string? _shownSession;
    private ViewSize _size = new(MaxFrameWidth, MaxFrameHeight);

    public LiveSession(
        Guid connectionId, RuntimeRecord runtime, RuntimeAddresses addresses, RuntimeTrust trust, LiveViewMetrics metrics, ILogger logger, Action<LiveSession> ended)
    {
        ConnectionId = connectionId;
        _runtime = runtime;
        _addresses = addresses;
        _trust = trust;
        _metrics = metrics;
        _logger = logger;
        _ended = ended;
    }

    public Guid ConnectionId { get; }

    /// <summary>Set once the session has stopped or is stopping: a new viewer then starts a new session.</summary>
    public bool IsEnding { get; private set; }

    public Task Completion { get; private set; } = Task.CompletedTask;

    public LiveViewer[] Viewers => Volatile.Read(ref _viewers);

    public void Start() => Completion = Task.Run(RunAsync);

    /// <summary>Adds a viewer; returns how many there are now.</summary>
    public int Add(LiveViewer viewer)
    {
        lock (_viewersLock)
        {
            _viewers = [.. _viewers, viewer];
            return _viewers.Length;
        }
    }

    /// <summary>Removes a viewer; returns how many are left.</summary>
    public int Remove(LiveViewer viewer)
    {
        lock (_viewersLock)
        {
            _viewers = Array.FindAll(_viewers, v => v != viewer);
            return _viewers.Length;
        }
    }

    /// <summary>Stops the session (its last viewer left); the viewers, if any are left, are closed.</summary>
    public void Stop()
    {
        IsEnding = true;
        _stop.Cancel();
    }

    private async Task RunAsync()
    {
        var reason = "stopped";
        Task<string?> receiving = Task.FromResult<string?>(null);
        LiveViewLog.SessionStarted(_logger, ConnectionId, _runtime.Id);
        try
        {
            var (target, error, _) = await _addresses.ResolveAsync(_runtime, null, _stop.Token);
            if (target is null)
            {
                reason = error?.Code ?? "runtime_unreachable";
                return;
            }

            using var handler = new SocketsHttpHandler { UseProxy = false, ConnectTimeout = CallTimeout };
            _trust.Configure(handler);
            using var invoker = new HttpMessageInvoker(handler);
            using var socket = new ClientWebSocket();
            using (var connect = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                connect.CancelAfter(CallTimeout);
                await socket.ConnectAsync(target, invoker, connect.Token);
            }

            _socket = socket;
            receiving = ReceiveAsync(socket);
            reason = await ControlAsync();
            reason = await receiving ?? reason;
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopped: the last viewer left.
        }
        catch (Exception exception) when (exception is WebSocketException or HttpRequestException or IOException or OperationCanceledException)
        {
            reason = "runtime_unreachable";
        }
        catch (Exception exception) when (exception is LiveCdpException or KeyNotFoundException or InvalidOperationException)
        {
            // A command failed or its answer was not the shape CDP documents: the runtime's fault, not the relay's.
            reason = "runtime answered unexpectedly";
        }
        catch (Exception exception)
        {
            reason = "relay_fault";
            LiveViewLog.SessionFault(_logger, ConnectionId, exception);
        }
        finally
        {
            IsEnding = true;
            _stop.Cancel();
            _socket?.Abort();
            try
            {
                await receiving;
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // Its end is already decided; the receive pump's own failure changes nothing now.
            }

            _ended(this);
            foreach (var viewer in Viewers)
            {
                viewer.Close((WebSocketCloseStatus)Splice.CloseCodes.BadGateway, "runtime closed the connection");
            }

            foreach (var pending in _pending.Values)
            {
                pending.TrySetCanceled();
            }

            LiveViewLog.SessionEnded(_logger, ConnectionId, reason, Interlocked.Read(ref _frames));
        }
    }

    /// <summary>What the receive pump tells the control pump about page targets.</summary>
    private readonly record struct TargetEvent(TargetEventKind Kind, string TargetId);

    private enum TargetEventKind
    {
        Created,
        Destroyed,
        Detached,
    }

    /// <summary>The shown page's size in CSS pixels, from the newest frame's metadata: what input coordinates scale to.</summary>
    private sealed record ViewSize(double Width, double Height);
}
