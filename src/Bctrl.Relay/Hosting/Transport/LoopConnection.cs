using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Bctrl.Relay.Loops;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Bctrl.Relay.Hosting.Transport;

/// <summary>
/// A connection of the relay transport during its HTTP phase (issue 9, docs/design.md §11): Kestrel parses and answers
/// requests over two pipes as on any transport, while the socket lives on one of the relay's I/O loops. The loop
/// receives into the input pipe when the socket is readable; a sender on the thread pool writes the output pipe to the
/// socket, waiting for the loop's word when the socket's send buffer is full. An upgraded connection is detached
/// (<see cref="IConnectionDetachFeature"/>): the socket leaves Kestrel for the splice, and this object is dropped.
/// </summary>
internal sealed class LoopConnection : ConnectionContext, IIoHandler, ILoopWork, IDuplexPipe,
    IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IConnectionLifetimeFeature,
    IConnectionEndPointFeature, IConnectionDetachFeature
{
    private const int MinimumReceive = 4096;
    private const int PauseAt = 64 * 1024;

    private static readonly PipeOptions InputOptions = new(
        readerScheduler: PipeScheduler.ThreadPool, // Kestrel's parsing never runs on a loop
        writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: PauseAt,
        resumeWriterThreshold: PauseAt / 2,
        useSynchronizationContext: false);

    // The sender runs inline on the thread that flushes (Kestrel's): it only makes non-blocking sends and, when the
    // socket is full, waits for the loop's word, so a response goes out without a hop through the thread pool.
    private static readonly PipeOptions OutputOptions = new(
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.ThreadPool,
        pauseWriterThreshold: PauseAt,
        resumeWriterThreshold: PauseAt / 2,
        useSynchronizationContext: false);

    private static long _lastId;

    private readonly IoLoop _loop;
    private readonly int _fd;
    private readonly Pipe _input = new(InputOptions);
    private readonly Pipe _output = new(OutputOptions);
    private readonly FeatureCollection _features = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly WritableSignal _writable = new();
    private readonly Action? _released;
    private readonly Action _resume;
    private int _token = -1;
    private int _requests;
    private int _closedFired;
    private int _aborted;
    private int _shutDown;
    private int _detaching;
    private int _endOfStream;
    private bool _registered;
    private bool _detached;
    private bool _readable;
    private bool _peerEnded;
    private bool _inputEnded;
    private bool _readPaused;
    private bool _sendFailed;
    private ConnectionAbortedException? _abortReason;
    private int _receiving;
    private Task _sending = Task.CompletedTask;

    public LoopConnection(IoLoop loop, int fd, EndPoint? local, EndPoint? remote, Action? released)
    {
        _loop = loop;
        _fd = fd;
        _released = released;
        _resume = () => Request(Requests.Resume);
        ConnectionId = "R" + Interlocked.Increment(ref _lastId).ToString("X", System.Globalization.CultureInfo.InvariantCulture);
        LocalEndPoint = local;
        RemoteEndPoint = remote;
        ConnectionClosed = _closed.Token;
        Transport = this;
        Items = new Dictionary<object, object?>();
        _features.Set<IConnectionIdFeature>(this);
        _features.Set<IConnectionTransportFeature>(this);
        _features.Set<IConnectionItemsFeature>(this);
        _features.Set<IConnectionLifetimeFeature>(this);
        _features.Set<IConnectionEndPointFeature>(this);
        _features.Set<IConnectionDetachFeature>(this);
    }

    [Flags]
    private enum Requests
    {
        None = 0,
        Register = 1,
        Resume = 2,
        Abort = 4,
        Close = 8,
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features => _features;

    public override IDictionary<object, object?> Items { get; set; }

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed { get; set; }

    PipeReader IDuplexPipe.Input => _input.Reader;

    PipeWriter IDuplexPipe.Output => _output.Writer;

    public IoLoop Loop => _loop;

    /// <summary>Registers the socket on its loop and starts the sender. Called once, by the accepting listener.</summary>
    public void Start()
    {
        _sending = SendAsync();
        Request(Requests.Register);
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        if (Volatile.Read(ref _detaching) != 0 || Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }

        _abortReason = abortReason;
        // What Kestrel flushed before the abort still goes if the socket takes it now (a body broken off after its
        // headers); then the sender shuts the socket down. A sender that has ended already cannot, so it is done here.
        _output.Reader.CancelPendingRead();
        _writable.Set();
        if (_sending.IsCompleted)
        {
            ShutDown();
        }
    }

    public override void Abort() => Abort(new ConnectionAbortedException("The connection was aborted."));

    public bool ClientLeft()
    {
        if (Volatile.Read(ref _endOfStream) == 0 || !_input.Reader.TryRead(out var result))
        {
            return false;
        }

        // Kestrel has parsed the request and reads nothing while the endpoint runs: what is left is what came behind it.
        var nothingBehind = result.Buffer.IsEmpty;
        _input.Reader.AdvanceTo(result.Buffer.Start);
        return nothingBehind;
    }

    public async ValueTask<DetachedSocket> DetachAsync()
    {
        Interlocked.Exchange(ref _detaching, 1);
        // The 101 was flushed into the output pipe: the sender sends it and everything before it, then stops.
        _output.Reader.CancelPendingRead();
        await _sending.ConfigureAwait(false);
        if (_sendFailed || Volatile.Read(ref _aborted) != 0)
        {
            throw new ConnectionAbortedException("The client went away before its upgrade was sent.");
        }

        // The loop reads no more once it sees the flag; a receive it began before is non-blocking and ends within
        // microseconds, and then every byte read so far is in the input pipe.
        var spin = default(SpinWait);
        while (Volatile.Read(ref _receiving) != 0)
        {
            spin.SpinOnce();
        }

        _detached = true;
        ReadOnlyMemory<byte> leftover = default;
        if (_input.Reader.TryRead(out var result))
        {
            if (!result.Buffer.IsEmpty)
            {
                leftover = result.Buffer.ToArray();
            }

            _input.Reader.AdvanceTo(result.Buffer.End);
        }

        return new DetachedSocket(_loop, _fd, _token, leftover, _released);
    }

    public override async ValueTask DisposeAsync()
    {
        _output.Writer.Complete();
        await _sending.ConfigureAwait(false);
        if (_detached)
        {
            // The socket belongs to its splice now; only the pipes' blocks go back.
            _input.Writer.Complete();
            _input.Reader.Complete();
            _closed.Dispose();
            return;
        }

        Request(Requests.Close);
    }

    public void RunOnLoop()
    {
        var requests = (Requests)Interlocked.Exchange(ref _requests, 0);
        if ((requests & Requests.Register) != 0)
        {
            _token = _loop.Register(_fd, this, 0);
            _registered = _token >= 0;
            if (!_registered)
            {
                EndInput(new ConnectionResetException("The connection could not be registered on its I/O loop."));
            }
        }

        if ((requests & Requests.Abort) != 0)
        {
            EndInput(_abortReason);
        }

        if ((requests & Requests.Resume) != 0)
        {
            _readPaused = false;
        }

        if ((requests & Requests.Close) != 0)
        {
            EndInput(null);
            if (_registered)
            {
                LinuxSockets.Shutdown(_fd, System.Net.Sockets.SocketShutdown.Send);
                _loop.Close(_token, _fd);
            }
            else
            {
                LinuxSockets.Close(_fd);
            }

            _released?.Invoke();
            return;
        }

        Receive();
    }

    public void OnEvents(uint events, int side)
    {
        if ((events & (LinuxSockets.EPOLLOUT | LinuxSockets.EPOLLERR | LinuxSockets.EPOLLHUP)) != 0)
        {
            _writable.Set();
        }

        if ((events & (LinuxSockets.EPOLLIN | LinuxSockets.EndEvents)) != 0)
        {
            _readable = true;
            _peerEnded |= (events & LinuxSockets.EndEvents) != 0;
        }

        Receive();
    }

    public void OnFault(Exception exception) => EndInput(new ConnectionResetException(exception.Message, exception));

    private void Request(Requests request)
    {
        var before = Interlocked.Or(ref _requests, (int)request);
        if (before == 0)
        {
            _loop.Post(this);
        }
    }

    /// <summary>Receives into the input pipe until a short read (edge-triggered), then flushes; a full pipe pauses reading.</summary>
    private void Receive()
    {
        // A full fence each way with DetachAsync's (Dekker's handshake): either it sees this receive and waits for its
        // end, or this sees the detach and reads nothing.
        Interlocked.Exchange(ref _receiving, 1);
        try
        {
            if (Volatile.Read(ref _detaching) == 0)
            {
                ReceiveIntoPipe();
            }
        }
        finally
        {
            Volatile.Write(ref _receiving, 0);
        }
    }

    private void ReceiveIntoPipe()
    {
        if (_inputEnded || _readPaused || !_readable)
        {
            return;
        }

        var writer = _input.Writer;
        var unflushed = 0;
        while (unflushed < PauseAt)
        {
            var memory = writer.GetMemory(MinimumReceive);
            var received = LinuxSockets.Receive(_fd, memory.Span);
            if (received > 0)
            {
                writer.Advance(received);
                unflushed += received;
                if (received < memory.Length && !_peerEnded)
                {
                    _readable = false;
                    break;
                }

                continue;
            }

            if (LinuxSockets.WouldBlock(received))
            {
                _readable = false;
                break;
            }

            if (received == 0)
            {
                EndOfStream();
            }
            else
            {
                EndInput(new ConnectionResetException("The client reset the connection."));
            }

            return;
        }

        // Consumed once: its result when it completed at once, else one continuation (the loop cannot await).
#pragma warning disable CA2012
        var flush = writer.FlushAsync();
#pragma warning restore CA2012
        if (flush.IsCompletedSuccessfully)
        {
            if (flush.Result.IsCompleted)
            {
                _inputEnded = true; // Kestrel reads no more
            }
            else if (_readable)
            {
                Request(Requests.Resume); // more to read than one turn takes: go on after the loop's other work
            }

            return;
        }

        // Kestrel reads slower than the client sends (or the flush failed): read again when the pipe has room.
        _readPaused = true;
        flush.GetAwaiter().UnsafeOnCompleted(_resume);
    }

    /// <summary>
    /// The client ended its side of TCP. Kestrel sees its input end (an idle keep-alive connection ends there), but the
    /// connection is not closed for it: a client may half-close right behind its upgrade request and its close frame and
    /// still wait for the runtime's answer (RFC 6455 §7.1.1), so an upgrade in progress must go on and the splice see the
    /// end of stream; the attach endpoint asks <see cref="ClientLeft"/> before its 101. A client that is gone both ways
    /// fails the next send, which closes the connection.
    /// </summary>
    private void EndOfStream()
    {
        if (!_inputEnded)
        {
            _inputEnded = true;
            _input.Writer.Complete();
            Volatile.Write(ref _endOfStream, 1);
        }
    }

    private void EndInput(Exception? error)
    {
        if (!_inputEnded)
        {
            _inputEnded = true;
            _input.Writer.Complete(error);
        }

        FireClosed();
    }

    private void FireClosed()
    {
        if (Interlocked.Exchange(ref _closedFired, 1) == 0)
        {
            // Cancelling runs Kestrel's callbacks: on the thread pool, never on the loop.
            ThreadPool.UnsafeQueueUserWorkItem(static closed => Cancel(closed), _closed, preferLocal: false);
        }
    }

    private static void Cancel(CancellationTokenSource closed)
    {
        try
        {
            closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed with the connection already.
        }
    }

    /// <summary>Writes what Kestrel flushes to the socket, on the thread pool; ends when Kestrel completes its output, on abort, or for a detach.</summary>
    private async Task SendAsync()
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    if (!await SendAllAsync(segment).ConfigureAwait(false))
                    {
                        return;
                    }
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted || (result.IsCanceled && (Volatile.Read(ref _detaching) != 0 || Volatile.Read(ref _aborted) != 0)))
                {
                    return;
                }
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or OperationCanceledException)
        {
            _sendFailed = true;
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            if (Volatile.Read(ref _aborted) != 0)
            {
                ShutDown();
            }
            else if (_sendFailed && Volatile.Read(ref _detaching) == 0)
            {
                FireClosed(); // the client is gone: what Kestrel runs for it stops
            }
        }
    }

    /// <summary>
    /// Ends an aborted connection both ways and its input. Safe off the loop: the descriptor is closed only on the loop,
    /// after the sender has stopped. Once.
    /// </summary>
    private void ShutDown()
    {
        if (Interlocked.Exchange(ref _shutDown, 1) == 0)
        {
            LinuxSockets.Shutdown(_fd, System.Net.Sockets.SocketShutdown.Both);
            Request(Requests.Abort);
        }
    }

    private async ValueTask<bool> SendAllAsync(ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            var sent = LinuxSockets.Send(_fd, data.Span);
            if (sent >= 0)
            {
                data = data[sent..];
                continue;
            }

            if (!LinuxSockets.WouldBlock(sent) || Volatile.Read(ref _aborted) != 0) // aborted: no waiting for a slow reader
            {
                _sendFailed = true;
                return false;
            }

            await _writable.WaitAsync().ConfigureAwait(false);
        }

        return true;
    }
}
