using Bctrl.Relay.Frames;
using Bctrl.Relay.Observation;
using Bctrl.Relay.Splice;

namespace Bctrl.Relay.Loops;

/// <summary>Told, on the thread pool, that a loop splice has ended and its descriptors are closed.</summary>
internal interface ILoopSpliceEnd
{
    /// <summary><paramref name="fault"/> is what failed inside the relay when the attach ended as <see cref="AttachEndReason.RelayFault"/>.</summary>
    void Ended(LoopSplice splice, AttachSummary summary, Exception? fault);
}

/// <summary>
/// One attach spliced on an I/O loop of the relay transport (issue 9, docs/design.md §11): the client's socket, detached
/// from Kestrel after the 101, and the runtime's socket, dialled on the same loop, both in the loop's edge-triggered
/// <c>epoll</c> set. Each readiness reads into the loop's shared buffer until a short read, tracks the frames in place
/// with each direction's <see cref="FrameTracker"/>, and sends the bytes straight on. Only when a peer does not take
/// them all are the rest held for it (<see cref="HeldBytes"/>), and the sender is not read until they are gone.
/// </summary>
/// <remarks>
/// <para>
/// Everything here runs on the loop's thread except the members of <see cref="ISplice"/>, which read counts
/// (<see cref="SpliceLeg"/> publishes them) or post to the loop (<see cref="Abort"/>). Nothing blocks: every system call is
/// non-blocking, timers are the loop's ticks, and the end of the attach (logging, records, Redis) is handed to the
/// thread pool through <see cref="ILoopSpliceEnd"/>.
/// </para>
/// <para>
/// The rules are the pipe splice's (<see cref="AttachSplice"/>), so the two transports behave alike: a header or
/// control frame cut by the end of a read is held by the tracker and sent once whole, so relay frames (pings, closes)
/// go in only at frame boundaries and a pong answering a relay ping is dropped whole.
/// </para>
/// </remarks>
internal sealed partial class LoopSplice : SpliceBase, IIoHandler, ILoopWork, ILoopTicker, IThreadPoolWorkItem
{
    private const int ClientSide = 0;
    private const int RuntimeSide = 1;

    private readonly IoLoop _loop;
    private readonly ILoopSpliceEnd _end;
    private readonly Action? _clientReleased;
    private readonly int _clientToken;
    private readonly int _runtimeToken;
    private int _clientFd;
    private int _runtimeFd;
    private ReadOnlyMemory<byte> _clientLeftover;
    private ReadOnlyMemory<byte> _runtimeLeftover;

    // Bytes read from one peer that the other has not taken yet.
    private HeldBytes _heldForRuntime;
    private HeldBytes _heldForClient;

    private Phase _phase;
    private Readiness _ready;
    private Readiness _halfClosed;
    private long _halfCloseDeadline;
    private bool _continuing;
    private AttachSummary? _summary;
    private Exception? _fault;

    public LoopSplice(
        IoLoop loop,
        int clientFd,
        int clientToken,
        ReadOnlyMemory<byte> clientLeftover,
        Action? clientReleased,
        int runtimeFd,
        int runtimeToken,
        ReadOnlyMemory<byte> runtimeLeftover,
        SpliceSettings settings,
        AttachObserver? observer,
        ILoopSpliceEnd end)
        : base(settings, observer, loop.Now)
    {
        _loop = loop;
        _clientFd = clientFd;
        _clientToken = clientToken;
        _clientLeftover = clientLeftover;
        _clientReleased = clientReleased;
        _runtimeFd = runtimeFd;
        _runtimeToken = runtimeToken;
        _runtimeLeftover = runtimeLeftover;
        _end = end;
    }

    private enum Phase : byte
    {
        Starting,
        Splicing,
        Closing,
        Done,
    }

    [Flags]
    private enum Readiness : byte
    {
        None = 0,
        ClientReadable = 1,
        RuntimeReadable = 2,
        // Read until "would block" or the end, not just until a short read: the peer's end was signalled, or an edge
        // may have gone elsewhere (to the connection or the dial, before the hand-over).
        ClientToEnd = 4,
        RuntimeToEnd = 8,
    }

    public int TickIndex { get; set; } = -1;

    /// <summary>Starts the splice on its loop. Called once, by the thread that set the attach up.</summary>
    public void Start() => _loop.Post(this);

    public override void Abort(AttachEndReason reason)
    {
        if (TryEnd(reason))
        {
            _loop.Post(this);
        }
    }

    /// <summary>The loop keeps this splice's timers itself (<see cref="OnTick"/>).</summary>
    public override void OnHeartbeat(long nowMilliseconds)
    {
    }

    public void RunOnLoop()
    {
        if (_phase == Phase.Starting)
        {
            Begin();
        }

        Settle();
    }

    public void OnEvents(uint events, int side)
    {
        if (_phase == Phase.Done)
        {
            return;
        }

        if (side == ClientSide)
        {
            Note(events, Readiness.ClientReadable, Readiness.ClientToEnd);
            if ((events & LinuxSockets.EPOLLOUT) != 0)
            {
                Drain(ClientSide);
            }
        }
        else if (side == RuntimeSide)
        {
            Note(events, Readiness.RuntimeReadable, Readiness.RuntimeToEnd);
            if ((events & LinuxSockets.EPOLLOUT) != 0)
            {
                Drain(RuntimeSide);
            }
        }
        else
        {
            _continuing = false;
        }

        if (_phase == Phase.Splicing)
        {
            Pump(ClientSide);
            Pump(RuntimeSide);
        }

        Settle();
    }

    public void OnFault(Exception exception)
    {
        _fault ??= exception;
        TryEnd(AttachEndReason.RelayFault);
        if (_phase != Phase.Done)
        {
            Finish();
        }
    }

    public void OnTick(long nowMilliseconds)
    {
        if (_phase == Phase.Splicing)
        {
            KeepTime(nowMilliseconds);
        }
        else if (_phase == Phase.Closing && nowMilliseconds >= _closeDeadline)
        {
            Finish(); // a peer that does not take or answer the close in time: its connection just ends
        }

        Settle();
    }

    void IThreadPoolWorkItem.Execute() => _end.Ended(this, _summary!, _fault);

    private void Begin()
    {
        _phase = Phase.Splicing;
        _loop.Rebind(_clientToken, this, ClientSide);
        _loop.Rebind(_runtimeToken, this, RuntimeSide);
        _loop.AddTicker(this, attach: true);
        RestartKeepAlive(_loop.Now);

        // Either socket may have had bytes, or its end, waiting since the hand-over; their edges went to the former owner.
        _ready = Readiness.ClientReadable | Readiness.RuntimeReadable | Readiness.ClientToEnd | Readiness.RuntimeToEnd;
        if (!_runtimeLeftover.IsEmpty)
        {
            ForwardHeld(RuntimeSide, _runtimeLeftover.Span); // the runtime's bytes right behind its 101
            _runtimeLeftover = default;
        }

        if (!_clientLeftover.IsEmpty)
        {
            ForwardHeld(ClientSide, _clientLeftover.Span); // a first frame that came with the upgrade request
            _clientLeftover = default;
        }

        Pump(ClientSide);
        Pump(RuntimeSide);
    }

    /// <summary>Moves the attach on after anything happened: an end recorded starts the close; a close in progress advances.</summary>
    private void Settle()
    {
        if (_phase == Phase.Splicing && IsEnded)
        {
            BeginClose();
        }

        if (_phase == Phase.Closing)
        {
            StepClose(); // at once too: a close with nothing to wait for finishes now, not at the next event or tick
        }
    }

    private void Note(uint events, Readiness readable, Readiness ended)
    {
        if ((events & (LinuxSockets.EPOLLIN | LinuxSockets.EndEvents)) != 0)
        {
            _ready |= readable;
        }

        if ((events & LinuxSockets.EndEvents) != 0)
        {
            _ready |= ended;
        }
    }
}
