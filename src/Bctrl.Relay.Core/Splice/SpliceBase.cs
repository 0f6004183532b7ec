using System.Buffers.Binary;
using Bctrl.Relay.Frames;
using Bctrl.Relay.Observation;

namespace Bctrl.Relay.Splice;

/// <summary>
/// What the two splices share (docs/design.md §4, §11): the pipe splice behind Kestrel's Sockets transport
/// (<see cref="AttachSplice"/>) and the loop splice of the relay transport (<see cref="Loops.LoopSplice"/>) move bytes
/// differently but keep the same state and the same rules: one leg per direction, the first reason recorded wins, an
/// end after a close handshake is that handshake, and one set of keep-alive and stall timers.
/// </summary>
internal abstract partial class SpliceBase : ISplice
{
    /// <summary>Relay pings carry "BCKA" and a sequence number, so the client's pongs to them can be told apart and dropped.</summary>
    private const uint KeepAliveMagic = 0x42434B41; // "BCKA" big-endian: 0x42 B, 0x43 C, 0x4B K, 0x41 A

    private protected readonly SpliceSettings _settings;
    private protected readonly AttachObserver? _observer;

    // The two directions, each used by reference (a mutable struct): never copied.
    private protected SpliceLeg _fromClient;
    private protected SpliceLeg _fromRuntime;

    private protected FrameViolation _violation;

    /// <summary>Reads of the client, counted by the splice: a client that was read since a ping is alive.</summary>
    private protected long _clientReads;

    private int _reason;
    private int _firstCloser;

    // A lease's quotas on this attach (docs/quotas.md): how long it may last and the bytes it may move (0: no limit),
    // and when it must end, stamped at the first tick on the splice's own clock.
    private long _maxAttachMilliseconds;
    private long _maxBytes;
    private long _endsAt;
    private long _clientReadsAtPing;
    private long _pingSentAt;
    private long _lastPingAt;
    private uint _pingSequence;

    private protected SpliceBase(SpliceSettings settings, AttachObserver? observer, long nowMilliseconds)
    {
        _settings = settings;
        _observer = observer;
        _fromClient = new SpliceLeg(FrameDirection.ClientToRuntime, settings.MaxMessageBytes, observer);
        _fromRuntime = new SpliceLeg(FrameDirection.RuntimeToClient, settings.MaxMessageBytes, observer);
        _lastPingAt = nowMilliseconds;
    }

    public AttachEndReason Reason => (AttachEndReason)Volatile.Read(ref _reason);

    public bool IsEnded => Volatile.Read(ref _reason) != 0;

    public TrafficCount FromClient => _fromClient.Traffic;

    public TrafficCount FromRuntime => _fromRuntime.Traffic;

    public long HeldForRuntime => _fromClient.Held;

    public long HeldForClient => _fromRuntime.Held;

    /// <summary>Both closes have passed: nothing may follow them, so the attach ends whether or not the peers end TCP.</summary>
    private protected bool BothClosesPassed => _fromClient.Tracker.CloseSeen && _fromRuntime.Tracker.CloseSeen;

    public abstract void Abort(AttachEndReason reason);

    public abstract void OnHeartbeat(long nowMilliseconds);

    private protected bool TryEnd(AttachEndReason reason) => Interlocked.CompareExchange(ref _reason, (int)reason, 0) == 0;

    /// <summary>A connection that ended after a close frame passed through ended by that close handshake.</summary>
    private protected AttachEndReason EndOfStream(AttachEndReason gone) => Volatile.Read(ref _firstCloser) switch
    {
        1 => AttachEndReason.ClientClosed,
        2 => AttachEndReason.RuntimeClosed,
        _ => gone,
    };

    private protected void RecordClose(ref SpliceLeg leg, bool fromClient, ushort code)
    {
        leg.CloseCode = code;
        Interlocked.CompareExchange(ref _firstCloser, fromClient ? 1 : 2, 0);
    }

    private protected AttachEndReason ViolationReason(FrameViolation violation, bool fromClient)
    {
        _violation = violation;
        return violation == FrameViolation.MessageTooBig
            ? fromClient ? AttachEndReason.ClientMessageTooBig : AttachEndReason.RuntimeMessageTooBig
            : fromClient ? AttachEndReason.ClientProtocolError : AttachEndReason.RuntimeProtocolError;
    }

    private protected static ushort ClosePayloadCode(ref FrameTracker tracker)
    {
        Span<byte> payload = stackalloc byte[FrameTracker.MaxControlPayload];
        var length = tracker.CopyControlPayload(payload);
        return RelayFrames.ReadCloseCode(payload[..length]);
    }

    /// <summary>Whether the control frame the client tracker just completed is a pong answering a relay ping.</summary>
    private protected bool IsKeepAlivePong()
    {
        Span<byte> payload = stackalloc byte[FrameTracker.MaxControlPayload];
        var length = _fromClient.Tracker.CopyControlPayload(payload);
        return length == 8 && BinaryPrimitives.ReadUInt32BigEndian(payload) == KeepAliveMagic;
    }

    /// <summary>
    /// The timers at a tick: a leg stalled on its receiver for the stall timeout, or a client that answered no ping
    /// for the keep-alive timeout, ends the attach (the reason returned); <paramref name="pingDue"/> says the next
    /// keep-alive ping is due (the splice sends it when the client's stream is at a frame boundary).
    /// </summary>
    private protected AttachEndReason Timers(long now, out bool pingDue)
    {
        pingDue = false;

        if (_maxAttachMilliseconds != 0)
        {
            if (_endsAt == 0)
            {
                _endsAt = now + _maxAttachMilliseconds;
            }
            else if (now >= _endsAt)
            {
                return AttachEndReason.AttachTimeLimit;
            }
        }

        if (_maxBytes != 0 && _fromClient.Traffic.Bytes + _fromRuntime.Traffic.Bytes >= _maxBytes)
        {
            return AttachEndReason.ByteQuotaExceeded;
        }

        // A leg stalls on its receiver: the runtime's bytes wait on the client, the client's on the runtime.
        var stall = (long)_settings.StallTimeout.TotalMilliseconds;
        if (_fromRuntime.StalledFor(now) >= stall)
        {
            return AttachEndReason.ClientStalled;
        }

        if (_fromClient.StalledFor(now) >= stall)
        {
            return AttachEndReason.RuntimeStalled;
        }

        if (_pingSentAt != 0)
        {
            if (Volatile.Read(ref _clientReads) != _clientReadsAtPing)
            {
                _pingSentAt = 0; // the client spoke since the ping: it is alive
            }
            else if (_fromClient.IsBlocked)
            {
                // The relay is not reading the client: its bytes wait on the runtime, so the client's answer (and
                // everything behind it) sits unread. The client owes a pong only while the relay reads it, so the wait
                // starts again when reading resumes; a runtime that never reads ends as RuntimeStalled at the stall
                // timeout, above (issue 8, finding 7).
                _pingSentAt = now | 1;
            }
            else if (now - _pingSentAt >= (long)_settings.KeepAliveTimeout.TotalMilliseconds)
            {
                return AttachEndReason.KeepAliveTimeout;
            }
        }

        pingDue = _pingSentAt == 0 && now - _lastPingAt >= (long)_settings.KeepAliveInterval.TotalMilliseconds;
        return AttachEndReason.None;
    }

    /// <summary>Writes the next keep-alive ping into <paramref name="destination"/> and starts waiting for its answer; returns its length.</summary>
    private protected int WriteKeepAlivePing(Span<byte> destination, long now)
    {
        Span<byte> payload = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(payload, KeepAliveMagic);
        BinaryPrimitives.WriteUInt32BigEndian(payload[4..], ++_pingSequence);
        var length = RelayFrames.WritePing(destination, payload, maskKey: null);
        _clientReadsAtPing = Volatile.Read(ref _clientReads);
        _pingSentAt = now | 1;
        _lastPingAt = now;
        return length;
    }

    /// <summary>
    /// Holds the attach to its lease's quotas (docs/quotas.md), checked at each tick of the splice's timers (a quarter
    /// second on the pipe splice, the loop's tick on the loop splice): it ends <paramref name="maxSeconds"/> after its
    /// first tick, and at the first tick after it has moved <paramref name="maxBytes"/>. Called before the splice starts.
    /// </summary>
    public void LimitTo(int? maxSeconds, long? maxBytes)
    {
        _maxAttachMilliseconds = maxSeconds is { } seconds ? seconds * 1000L : 0;
        _maxBytes = maxBytes ?? 0;
    }

    /// <summary>The keep-alive interval counts from <paramref name="now"/> (a splice that starts later than it was made).</summary>
    private protected void RestartKeepAlive(long now) => _lastPingAt = now;
}
