using System.Net;
using System.Net.Sockets;
using Bctrl.Relay.Loops;
using Microsoft.AspNetCore.Connections;
using Microsoft.Win32.SafeHandles;

namespace Bctrl.Relay.Hosting.Transport;

/// <summary>
/// One listening socket's accept loop (issue 8, finding 1). Each connection accepted goes to the next I/O loop as a
/// <see cref="LoopConnection"/> (issue 9). Kestrel's own loop retries a failed accept at once, so a
/// process out of descriptors spun at 100 % CPU, allocating an exception per turn, until the runtime aborted. Here:
/// <list type="bullet">
/// <item>a connection beyond the <see cref="ConnectionBudget"/> is answered 503 <c>at_capacity</c> and closed at once;</item>
/// <item>when the system refuses a descriptor (<c>EMFILE</c>, <c>ENFILE</c>, <c>ENOBUFS</c>), the loop gives back a
/// descriptor it keeps in reserve, accepts the waiting connection with it, answers it 503 the same way, takes the
/// reserve again, and then waits (10 ms, doubling to 1 s) before it accepts again, so a node at the limit neither
/// spins nor leaves clients hanging; live attaches carry on, and the node recovers by itself once descriptors are free.</item>
/// </list>
/// </summary>
internal sealed class RelayListener : IConnectionListener
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan LastBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ReserveAcceptTimeout = TimeSpan.FromMilliseconds(100);

    private readonly Socket _socket;
    private readonly IoLoops _loops;
    private readonly Action _released;
    private readonly ConnectionBudget _budget;
    private readonly bool _management;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly byte[] _drain = new byte[1024];
    private SafeFileHandle? _reserve;
    private TimeSpan _backoff;
    private long _lastWarning;
    private long _failuresSinceWarning;

    public RelayListener(Socket socket, IoLoops loops, ConnectionBudget budget, bool management, ILogger logger, TimeProvider time)
    {
        _socket = socket;
        _loops = loops;
        _released = () => budget.Release(management); // one delegate for every connection of this listener
        _budget = budget;
        _management = management;
        _logger = logger;
        _time = time;
        _reserve = OpenReserve();
        EndPoint = socket.LocalEndPoint!;
    }

    public EndPoint EndPoint { get; }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return null; // unbound
            }
            catch (OperationCanceledException)
            {
                return null;
            }
            catch (SocketException exception) when (exception.SocketErrorCode == SocketError.OperationAborted)
            {
                return null;
            }
            catch (SocketException exception) when (Descriptors.IsOutOf(exception.SocketErrorCode))
            {
                await OutOfDescriptorsAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (SocketException)
            {
                continue; // reset while it waited in the backlog
            }

            _backoff = TimeSpan.Zero;
            if (!_budget.TryTake(_management))
            {
                Refuse(accepted);
                continue;
            }

            EndPoint? local, remote;
            try
            {
                accepted.NoDelay = true;
                local = accepted.LocalEndPoint;
                remote = accepted.RemoteEndPoint;
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                _budget.Release(_management);
                accepted.Dispose();
                continue;
            }

            // The descriptor leaves the Socket, which never used it asynchronously (so the runtime's socket engine
            // never registered it): from here the connection and its loop own it.
            var fd = (int)accepted.SafeHandle.DangerousGetHandle();
            accepted.SafeHandle.SetHandleAsInvalid();
            GC.SuppressFinalize(accepted);
            var connection = new LoopConnection(_loops.Next(), fd, local, remote, _released);
            connection.Start();
            return connection;
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        _reserve?.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>A descriptor held only to be given back when the system has none left, so a waiting client still gets its 503.</summary>
    private static SafeFileHandle? OpenReserve()
    {
        try
        {
            return File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null; // no /dev/null (not Unix) or no descriptor now: tried again after the next refusal
        }
    }

    private async Task OutOfDescriptorsAsync(CancellationToken cancellationToken)
    {
        NoteFailure();
        if (_reserve is not null)
        {
            _reserve.Dispose();
            _reserve = null;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(ReserveAcceptTimeout);
                Refuse(await _socket.AcceptAsync(timeout.Token).ConfigureAwait(false));
                _budget.CountRefused();
            }
            catch (Exception exception) when (exception is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Nothing waiting after all, or still no descriptor: wait below and try again.
            }
        }

        // Taken again here, also when it could not be had before (the listener started out of descriptors).
        _reserve ??= OpenReserve();

        _backoff = _backoff == TimeSpan.Zero ? FirstBackoff : TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, LastBackoff.Ticks));
        try
        {
            await Task.Delay(_backoff, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Unbinding: the next accept returns null.
        }
    }

    /// <summary>
    /// Answers 503 <c>at_capacity</c> on a socket the node will not serve and closes it. The request's bytes already
    /// received are read and dropped first: closing a socket with unread bytes sends a reset, which can reach the
    /// client before it has read the answer.
    /// </summary>
    private void Refuse(Socket socket)
    {
        try
        {
            socket.Send(AtCapacityAnswer.Bytes, SocketFlags.None, out _);
            while (socket.Available > 0 && socket.Receive(_drain, SocketFlags.None, out var error) > 0 && error == SocketError.Success)
            {
            }

            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // The client left already.
        }
        finally
        {
            socket.Dispose();
        }
    }

    /// <summary>One warning per 10 s at most, with the count since the last one: a node out of descriptors must not also flood its log.</summary>
    private void NoteFailure()
    {
        _failuresSinceWarning++;
        var now = _time.GetTimestamp();
        if (_lastWarning == 0 || _time.GetElapsedTime(_lastWarning, now) >= TimeSpan.FromSeconds(10))
        {
            TransportLog.OutOfDescriptors(_logger, _failuresSinceWarning, EndPoint.ToString() ?? string.Empty);
            _lastWarning = now;
            _failuresSinceWarning = 0;
        }
    }
}
