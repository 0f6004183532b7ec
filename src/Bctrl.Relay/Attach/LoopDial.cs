using System.Buffers;
using System.Net;
using Bctrl.Relay.Control;
using Bctrl.Relay.Handshake;
using Bctrl.Relay.Hosting.Transport;
using Bctrl.Relay.Loops;

namespace Bctrl.Relay.Attach;

/// <summary>
/// The runtime dial of the relay transport (issue 9): the runtime's socket is made, connected and its WebSocket
/// handshake done on the client's own I/O loop, so both legs of the attach live in one <c>epoll</c> set and the runtime
/// socket never meets the runtime's socket engine. The request is written into the dial's one buffer, which then
/// receives the answer; the checks are <see cref="UpstreamDialer"/>'s.
/// </summary>
internal sealed class LoopDial : IIoHandler, ILoopWork
{
    private const int BufferBytes = 16 * 1024;

    private readonly IoLoop _loop;
    private readonly IPEndPoint _endPoint;
    private readonly string _key;
    private readonly string? _subProtocol;
    private readonly TaskCompletionSource<ApiError?> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[]? _buffer;
    private readonly int _requestLength;
    private int _filled;
    private State _state;
    private int _cancelled;
    private int _abandoned;

    private LoopDial(IoLoop loop, IPEndPoint endPoint, Uri target, string? subProtocol)
    {
        _loop = loop;
        _endPoint = endPoint;
        _subProtocol = subProtocol;
        _key = WebSocketAccept.NewKey();
        _buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        _requestLength = UpstreamDialer.WriteRequest(_buffer, target, _key, subProtocol);
    }

    private enum State : byte
    {
        Created,
        Connecting,
        Reading,
        Connected,
        HandedOver,
        Ended,
    }

    public int Fd { get; private set; } = -1;

    public int Token { get; private set; } = -1;

    /// <summary>Bytes the runtime sent right behind its 101.</summary>
    public ReadOnlyMemory<byte> Leftover { get; private set; }

    public string? SubProtocol { get; private set; }

    /// <summary>Starts a dial on <paramref name="loop"/>; its outcome is null on success or the error to answer.</summary>
    public static LoopDial Start(IoLoop loop, IPEndPoint endPoint, Uri target, string? subProtocol)
    {
        var dial = new LoopDial(loop, endPoint, target, subProtocol);
        loop.Post(dial);
        return dial;
    }

    public Task<ApiError?> Outcome => _done.Task;

    /// <summary>Gives up a dial still under way (its deadline passed, or the client left). Any thread.</summary>
    public void Cancel()
    {
        if (Interlocked.Exchange(ref _cancelled, 1) == 0)
        {
            _loop.Post(this);
        }
    }

    /// <summary>Closes a connected runtime socket that no splice will take (the attach failed after the dial). Any thread.</summary>
    public void Abandon()
    {
        if (Interlocked.Exchange(ref _abandoned, 1) == 0)
        {
            _loop.Post(this);
        }
    }

    /// <summary>The splice takes the socket; called on the loop.</summary>
    public void HandOver() => _state = State.HandedOver;

    public void RunOnLoop()
    {
        if (_state == State.Created)
        {
            Connect();
        }

        if (Volatile.Read(ref _cancelled) != 0 && _state is State.Connecting or State.Reading)
        {
            Fail(_state == State.Connecting
                ? ApiError.RuntimeUnreachable
                : UpstreamDialer.BadHandshake("The runtime did not complete the WebSocket handshake in time."));
        }

        if (Volatile.Read(ref _abandoned) != 0 && _state == State.Connected)
        {
            _state = State.Ended;
            _loop.Close(Token, Fd);
        }
    }

    public void OnEvents(uint events, int side)
    {
        if (_state == State.Connecting && (events & (LinuxSockets.EPOLLOUT | LinuxSockets.EPOLLERR | LinuxSockets.EPOLLHUP)) != 0)
        {
            if (LinuxSockets.PendingError(Fd) != 0)
            {
                Fail(ApiError.RuntimeUnreachable);
                return;
            }

            SendRequest();
        }

        if (_state == State.Reading && (events & (LinuxSockets.EPOLLIN | LinuxSockets.EndEvents)) != 0)
        {
            ReadResponse();
        }
    }

    public void OnFault(Exception exception)
    {
        if (_state is State.Connecting or State.Reading)
        {
            Fail(UpstreamDialer.BadHandshake("The runtime closed the connection during the WebSocket handshake."));
        }
    }

    private void Connect()
    {
        var fd = LinuxSockets.OpenStream(_endPoint.AddressFamily);
        if (fd < 0)
        {
            // No descriptor for the runtime leg: the node is at its limit, not the runtime at fault (issue 8, finding 1).
            Finish(Descriptors.IsOutOfErrno(-fd) ? ApiError.AtCapacity : ApiError.RuntimeUnreachable);
            _state = State.Ended;
            return;
        }

        Fd = fd;
        var token = _loop.Register(fd, this, 0);
        if (token < 0)
        {
            LinuxSockets.Close(fd);
            Finish(ApiError.RuntimeUnreachable);
            _state = State.Ended;
            return;
        }

        Token = token;
        _state = State.Connecting;
        var connected = LinuxSockets.Connect(fd, _endPoint);
        if (connected == 0)
        {
            SendRequest();
        }
        else if (connected != -LinuxSockets.EINPROGRESS)
        {
            Fail(ApiError.RuntimeUnreachable);
        }
    }

    private void SendRequest()
    {
        // A few hundred bytes into a fresh socket's empty send buffer: all of it goes at once, or the runtime is gone.
        var sent = LinuxSockets.Send(Fd, _buffer.AsSpan(0, _requestLength));
        if (sent != _requestLength)
        {
            Fail(UpstreamDialer.BadHandshake("The runtime closed the connection during the WebSocket handshake."));
            return;
        }

        _state = State.Reading;
        _filled = 0;
        ReadResponse();
    }

    private void ReadResponse()
    {
        var buffer = _buffer!;
        while (_filled < buffer.Length)
        {
            var received = LinuxSockets.Receive(Fd, buffer.AsSpan(_filled));
            if (LinuxSockets.WouldBlock(received))
            {
                return;
            }

            if (received <= 0)
            {
                Fail(UpstreamDialer.BadHandshake("The runtime closed the connection during the WebSocket handshake."));
                return;
            }

            _filled += received;
            var end = UpstreamResponse.FindHeaderEnd(buffer.AsSpan(0, _filled));
            if (end < 0)
            {
                continue;
            }

            var response = UpstreamResponse.Parse(buffer.AsSpan(0, end));
            var problem = UpstreamDialer.Check(response, _key, _subProtocol);
            if (problem is not null)
            {
                Fail(UpstreamDialer.BadHandshake(problem));
                return;
            }

            SubProtocol = response!["Sec-WebSocket-Protocol"];
            Leftover = end == _filled ? ReadOnlyMemory<byte>.Empty : buffer.AsSpan(end, _filled - end).ToArray();
            _state = State.Connected;
            ReturnBuffer();
            Finish(null);
            return;
        }

        Fail(UpstreamDialer.BadHandshake("The runtime did not answer with an HTTP response."));
    }

    private void Fail(ApiError error)
    {
        _state = State.Ended;
        _loop.Close(Token, Fd);
        ReturnBuffer();
        Finish(error);
    }

    private void Finish(ApiError? error)
    {
        ReturnBuffer();
        _done.TrySetResult(error);
    }

    private void ReturnBuffer()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
