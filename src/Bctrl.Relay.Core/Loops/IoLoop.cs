using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Bctrl.Relay.Loops;

/// <summary>What a loop calls when a descriptor registered for it is ready. Always on the loop's thread; never blocks.</summary>
internal interface IIoHandler
{
    /// <summary>
    /// <paramref name="events"/> are the <c>epoll</c> events of the descriptor registered as <paramref name="side"/>;
    /// 0 when the handler asked to go on (<see cref="IoLoop.Continue"/>) after yielding its turn.
    /// </summary>
    void OnEvents(uint events, int side);

    /// <summary>A call of <see cref="OnEvents"/> threw: end whatever the handler holds. The loop goes on.</summary>
    void OnFault(Exception exception);
}

/// <summary>Work handed to a loop from another thread with <see cref="IoLoop.Post"/>; runs on the loop's thread.</summary>
internal interface ILoopWork
{
    void RunOnLoop();
}

/// <summary>Something a loop calls about four times a second, for its timers (keep-alive, stalls, close deadlines).</summary>
internal interface ILoopTicker
{
    /// <summary>The ticker's place in its loop's list; the loop's own.</summary>
    int TickIndex { get; set; }

    void OnTick(long nowMilliseconds);
}

/// <summary>
/// One I/O loop of the relay transport (docs/design.md §11): a thread of its own, an edge-triggered <c>epoll</c> set,
/// an <c>eventfd</c> other threads wake it with, and one large receive buffer (<see cref="Scratch"/>) that every
/// attach on the loop reads into in turn, so an attach holds no buffer of its own while its peers read.
/// </summary>
/// <remarks>
/// Nothing may block a loop thread: handlers make only non-blocking system calls (<see cref="LinuxSockets"/>), take no
/// lock another thread holds for long, and hand everything that may wait (logging an attach's end, Redis, Kestrel)
/// to the thread pool. Descriptors are registered once for input and output, edge-triggered, for their whole life.
/// A handler reads until a short read and at most <see cref="ReadsPerTurn"/> times per event; one with more to read
/// yields with <see cref="Continue"/>, so one busy attach cannot starve the others on its loop.
/// </remarks>
internal sealed unsafe class IoLoop : IDisposable
{
    /// <summary>
    /// The loop's receive buffer: 256 KiB. Measured with the load tool (bench/README.md, issue 9): against 64 KiB it
    /// moves 1 MiB messages 15–25 % faster for a quarter less CPU; 1 MiB gained nothing more. One per loop, never per attach.
    /// </summary>
    public const int ScratchBytes = 256 * 1024;

    /// <summary>Receives per event before a handler yields its turn.</summary>
    public const int ReadsPerTurn = 16;

    public const int TickMilliseconds = 250;

    private const int EventCapacity = 256;
    private const ulong WakeToken = 0;

    private readonly int _epoll;
    private readonly int _wake;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<ILoopWork> _posted = new();
    private readonly Queue<IIoHandler> _continuing = new();
    private readonly List<ILoopTicker> _tickers = [];
    private readonly Stack<int> _freeTokens = new();
    private readonly List<int> _retiredTokens = [];
    private readonly byte* _events;
    private Slot[] _slots = new Slot[64];
    private int _nextToken = 1;
    private int _wakeArmed;
    private long _nextTick;
    private volatile bool _stopping;

    public IoLoop(int index)
    {
        Index = index;
        _epoll = LinuxSockets.CreateEpoll();
        _wake = LinuxSockets.CreateEventFd();
        LinuxSockets.Add(_epoll, _wake, LinuxSockets.EPOLLIN | LinuxSockets.EPOLLET, WakeToken);
        _events = (byte*)NativeMemory.Alloc((nuint)(EventCapacity * LinuxSockets.EpollEventSize));
        Scratch = GC.AllocateUninitializedArray<byte>(ScratchBytes, pinned: true);
        _thread = new Thread(Run) { IsBackground = true, Name = $"relay-io-{index}" };
        _thread.Start();
    }

    public int Index { get; }

    /// <summary>The loop's receive buffer; only the loop's thread touches it, and only within one event.</summary>
    public byte[] Scratch { get; }

    /// <summary>Attaches splicing on this loop now (read by the metrics scrape).</summary>
    public int Attaches => Volatile.Read(ref _attaches);

    private int _attaches;

    public bool IsOnLoop => Environment.CurrentManagedThreadId == _thread.ManagedThreadId;

    /// <summary>Milliseconds of the loop's clock (<see cref="Environment.TickCount64"/>), read once per batch of events.</summary>
    public long Now { get; private set; } = Environment.TickCount64;

    /// <summary>Runs <paramref name="work"/> on the loop soon. Any thread; no allocation beyond the queue's own segments.</summary>
    public void Post(ILoopWork work)
    {
        _posted.Enqueue(work);
        if (Interlocked.Exchange(ref _wakeArmed, 1) == 0)
        {
            LinuxSockets.Signal(_wake);
        }
    }

    /// <summary>Registers <paramref name="fd"/> for <paramref name="handler"/> as <paramref name="side"/>; returns its token, or -errno.</summary>
    public int Register(int fd, IIoHandler handler, int side)
    {
        AssertOnLoop();
        var token = _freeTokens.Count > 0 ? _freeTokens.Pop() : _nextToken++;
        if (token >= _slots.Length)
        {
            Array.Resize(ref _slots, _slots.Length * 2);
        }

        _slots[token] = new Slot(handler, side);
        var added = LinuxSockets.Add(_epoll, fd, LinuxSockets.EdgeTriggeredBothWays, (ulong)token);
        if (added < 0)
        {
            _slots[token] = default;
            _freeTokens.Push(token);
            return added;
        }

        return token;
    }

    /// <summary>Hands a registered descriptor's events to another handler (a detached connection to its splice).</summary>
    public void Rebind(int token, IIoHandler handler, int side)
    {
        AssertOnLoop();
        _slots[token] = new Slot(handler, side);
    }

    /// <summary>
    /// Forgets a token and closes its descriptor (closing takes it out of the <c>epoll</c> set). The token is reused
    /// only after the current batch of events, so a later event of this batch never reaches another descriptor's handler.
    /// </summary>
    public void Close(int token, int fd)
    {
        AssertOnLoop();
        _slots[token] = default;
        _retiredTokens.Add(token);
        LinuxSockets.Close(fd);
    }

    /// <summary>The handler has more to read and yields its turn: it is called again (events 0) after the others.</summary>
    public void Continue(IIoHandler handler) => _continuing.Enqueue(handler);

    public void AddTicker(ILoopTicker ticker, bool attach)
    {
        AssertOnLoop();
        ticker.TickIndex = _tickers.Count;
        _tickers.Add(ticker);
        if (attach)
        {
            Interlocked.Increment(ref _attaches);
        }
    }

    public void RemoveTicker(ILoopTicker ticker, bool attach)
    {
        AssertOnLoop();
        var index = ticker.TickIndex;
        if (index < 0 || index >= _tickers.Count || !ReferenceEquals(_tickers[index], ticker))
        {
            return;
        }

        var last = _tickers[^1];
        _tickers[index] = last;
        last.TickIndex = index;
        _tickers.RemoveAt(_tickers.Count - 1);
        ticker.TickIndex = -1;
        if (attach)
        {
            Interlocked.Decrement(ref _attaches);
        }
    }

    /// <summary>Stops the loop thread once it has run what was posted. Descriptors still registered are left to their owners.</summary>
    public void Dispose()
    {
        _stopping = true;
        LinuxSockets.Signal(_wake);
        _thread.Join(TimeSpan.FromSeconds(5));
    }

    private void Run()
    {
        _nextTick = Environment.TickCount64 + TickMilliseconds;
        while (!_stopping)
        {
            var timeout = _continuing.Count > 0 ? 0 : (int)Math.Clamp(_nextTick - Environment.TickCount64, 0, TickMilliseconds);
            var count = LinuxSockets.Wait(_epoll, _events, EventCapacity, timeout);
            Now = Environment.TickCount64;
            for (var i = 0; i < count; i++)
            {
                var token = LinuxSockets.DataAt(_events, i);
                if (token == WakeToken)
                {
                    LinuxSockets.Drain(_wake);
                    Volatile.Write(ref _wakeArmed, 0);
                    RunPosted();
                    continue;
                }

                var slot = _slots[(int)token];
                if (slot.Handler is { } handler)
                {
                    Dispatch(handler, LinuxSockets.EventsAt(_events, i), slot.Side);
                }
            }

            // What was posted after the wake was read, and handlers that yielded their turn.
            RunPosted();
            for (var pending = _continuing.Count; pending > 0 && _continuing.TryDequeue(out var handler); pending--)
            {
                Dispatch(handler, 0, -1);
            }

            foreach (var token in _retiredTokens)
            {
                _freeTokens.Push(token);
            }

            _retiredTokens.Clear();
            if (Now >= _nextTick)
            {
                _nextTick = Now + TickMilliseconds;
                Tick();
            }
        }

        RunPosted();
    }

    private void RunPosted()
    {
        while (_posted.TryDequeue(out var work))
        {
            try
            {
                work.RunOnLoop();
            }
            catch (Exception exception) when (work is IIoHandler handler)
            {
                handler.OnFault(exception);
            }
            catch (Exception)
            {
                // Posted work that is not a handler has nothing to end; the loop must go on.
            }
        }
    }

    private static void Dispatch(IIoHandler handler, uint events, int side)
    {
        try
        {
            handler.OnEvents(events, side);
        }
        catch (Exception exception)
        {
            handler.OnFault(exception);
        }
    }

    private void Tick()
    {
        // Backwards: a ticker that ends removes itself, and the last one takes its place.
        for (var i = _tickers.Count - 1; i >= 0; i--)
        {
            if (i >= _tickers.Count)
            {
                continue;
            }

            var ticker = _tickers[i];
            try
            {
                ticker.OnTick(Now);
            }
            catch (Exception exception) when (ticker is IIoHandler handler)
            {
                handler.OnFault(exception);
            }
        }
    }

    [System.Diagnostics.Conditional("DEBUG")]
    private void AssertOnLoop() => System.Diagnostics.Debug.Assert(IsOnLoop, "Only the loop's own thread may change its registrations.");

    private readonly record struct Slot(IIoHandler? Handler, int Side);
}
