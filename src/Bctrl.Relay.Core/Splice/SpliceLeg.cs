using Bctrl.Relay.Frames;
using Bctrl.Relay.Observation;

namespace Bctrl.Relay.Splice;

/// <summary>
/// One direction of a splice, named by its sender: the frames it sends are tracked here, the prefixes of its text
/// messages gathered here, its close code and what it moved counted here, and a write of its bytes to the other peer
/// that waits (that peer is not reading) is stamped here for the stall timeout.
/// </summary>
/// <remarks>
/// A mutable struct like the <see cref="FrameTracker"/> it holds: the splice keeps one per direction in a field and
/// uses it by reference, so a leg costs an attach no object of its own (issue 9 counts memory per idle attach).
/// Never copy one: a copy's tracker and counts go nowhere.
/// </remarks>
internal struct SpliceLeg
{
    /// <summary>The sender's frames. A field, not a property: the tracker is a mutable struct and moves in place.</summary>
    public FrameTracker Tracker;

    /// <summary>The sender's close code (0: it sent no close).</summary>
    public ushort CloseCode;

    // Bytes held for the receiving peer that is not reading: read from the client and waiting on a blocked send to the
    // runtime, or committed to the client's pipe and waiting on a blocked flush. 0 while data flows.
    private long _held;

    // Set (|1, so never 0) while a write to the receiving peer waits on a peer that does not read; 0 otherwise.
    private long _blockedSince;

    // Written by the pump, read by a metrics scrape on another thread. Frames and messages are copies of the tracker's
    // own counts, published once per read so the scrape never reads the tracker.
    private long _bytes;
    private long _frames;
    private long _messages;

    public SpliceLeg(FrameDirection direction, long maxMessageBytes, AttachObserver? observer)
    {
        Tracker = new FrameTracker(direction, maxMessageBytes);
        if (observer is not null)
        {
            Prefix = new SamplePrefix(observer, fromClient: direction == FrameDirection.ClientToRuntime);
        }
    }

    /// <summary>The bounded prefix of a text message cut by the end of a read; null when observation is off.</summary>
    public SamplePrefix? Prefix { get; }

    public TrafficCount Traffic => new(Volatile.Read(ref _bytes), Volatile.Read(ref _frames), Volatile.Read(ref _messages));

    /// <summary>Bytes of this direction held while the receiving peer does not read (0 while data flows).</summary>
    public long Held => Volatile.Read(ref _held);

    /// <summary>Whether a write to the receiving peer waits now.</summary>
    public bool IsBlocked => Volatile.Read(ref _blockedSince) != 0;

    public void AddBytes(long bytes) => Interlocked.Add(ref _bytes, bytes);

    /// <summary>Publishes the tracker's frame and message counts for the scrape.</summary>
    public void PublishFrameCounts()
    {
        Volatile.Write(ref _frames, Tracker.Frames);
        Volatile.Write(ref _messages, Tracker.Messages);
    }

    /// <summary>A write to the receiving peer waits from <paramref name="nowMilliseconds"/>, holding <paramref name="held"/> bytes.</summary>
    public void Block(long nowMilliseconds, long held)
    {
        _blockedSince = nowMilliseconds | 1;
        Volatile.Write(ref _held, held);
    }

    /// <summary>The bytes held for the receiving peer now, while the wait stamped by <see cref="Block"/> goes on.</summary>
    public void Hold(long held) => Volatile.Write(ref _held, held);

    public void Unblock()
    {
        _blockedSince = 0;
        Volatile.Write(ref _held, 0);
    }

    /// <summary>How long the waiting write has waited (0 when none waits).</summary>
    public readonly long StalledFor(long nowMilliseconds) => _blockedSince == 0 ? 0 : nowMilliseconds - _blockedSince;
}
