using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Bctrl.Relay.Load;

/// <summary>
/// A fast stand-in for a Chromium runtime on 127.0.0.1:0: raw sockets and the framework's managed WebSocket, no
/// ASP.NET, so it costs the shared cores as little as possible. It answers <c>GET /json/version</c> with a
/// <c>webSocketDebuggerUrl</c>, accepts WebSocket upgrades on <c>/devtools/…</c>, answers every command with its result
/// of the same size and id (any other message is echoed back whole), and streams messages to a client whose first
/// message is <c>STREAM &lt;bytes&gt;</c>.
/// </summary>
internal sealed partial class FakeRuntime : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, Task> _sessions = new();
    private readonly Task _acceptLoop;
    private long _nextSession;
    private long _errors;
    private string? _firstError;

    private FakeRuntime()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;

        // Chromium's browser id is 32 hex digits, new at every start (RuntimeAddresses resolves it through /json/version).
        BrowserId = Guid.NewGuid().ToString("N");
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port { get; }

    public string BrowserId { get; }

    /// <summary>What the relay is given as the runtime's <c>cdpUrl</c>; it resolves the socket through <c>/json/version</c>.</summary>
    public Uri HttpUrl => new($"http://127.0.0.1:{Port}");

    /// <summary>The browser socket, which the direct target dials.</summary>
    public Uri BrowserSocketUrl => new($"ws://127.0.0.1:{Port}/devtools/browser/{BrowserId}");

    public long Errors => Interlocked.Read(ref _errors);

    public string? FirstError => Volatile.Read(ref _firstError);

    public static FakeRuntime Start() => new();

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        try
        {
            await _acceptLoop.ConfigureAwait(false);
            await Task.WhenAll(_sessions.Values).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Sessions whose peer never went away; their sockets die with the process.
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            socket.NoDelay = true;
            var id = Interlocked.Increment(ref _nextSession);
            _sessions[id] = RunSessionAsync(id, socket);
        }
    }

    private async Task RunSessionAsync(long id, Socket socket)
    {
        // Off the accept loop at once: the session's first await may complete synchronously.
        await Task.Yield();
        try
        {
            await ServeAsync(socket, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsPeerGone(exception))
        {
            // A client or relay that went away; the load driver counts its own errors.
        }
        catch (Exception exception)
        {
            RecordError(exception.GetType().Name + ": " + exception.Message);
        }
        finally
        {
            socket.Dispose();
            _sessions.TryRemove(id, out _);
        }
    }

    private static bool IsPeerGone(Exception exception) => exception is OperationCanceledException or IOException or SocketException
        or ObjectDisposedException or System.Net.WebSockets.WebSocketException;

    private void RecordError(string message)
    {
        Interlocked.Increment(ref _errors);
        Interlocked.CompareExchange(ref _firstError, message, null);
    }
}
