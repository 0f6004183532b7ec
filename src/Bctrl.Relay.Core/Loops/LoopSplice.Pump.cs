using Bctrl.Relay.Frames;
using Bctrl.Relay.Splice;

namespace Bctrl.Relay.Loops;

internal sealed partial class LoopSplice
{
    private enum ScanStop : byte
    {
        EndOfData,
        DropFrame,
        Violation,
    }

    /// <summary>
    /// Reads what the peer on <paramref name="from"/> sent, up to <see cref="IoLoop.ReadsPerTurn"/> times, and sends it on.
    /// Stops at a short read (edge-triggered: the next byte to arrive brings a new event), when the receiver holds bytes
    /// (it is not reading; the sender is read again once they are gone), or when the attach ends.
    /// </summary>
    private void Pump(int from)
    {
        var readable = from == ClientSide ? Readiness.ClientReadable : Readiness.RuntimeReadable;
        var toEnd = from == ClientSide ? Readiness.ClientToEnd : Readiness.RuntimeToEnd;
        ref var leg = ref Leg(from);
        ref var held = ref HeldFor(Other(from));
        var fd = from == ClientSide ? _clientFd : _runtimeFd;
        var scratch = _loop.Scratch;
        for (var reads = 0; ; reads++)
        {
            if (IsEnded || (_ready & readable) == 0 || (_halfClosed & readable) != 0 || !held.IsEmpty)
            {
                return;
            }

            if (reads == IoLoop.ReadsPerTurn)
            {
                if (!_continuing)
                {
                    _continuing = true;
                    _loop.Continue(this);
                }

                return;
            }

            // A header or control frame cut by the last read is held by the tracker: it goes first, then what follows.
            var filled = leg.Tracker.CopyPendingTo(scratch);
            var received = LinuxSockets.Receive(fd, scratch.AsSpan(filled));
            if (received < 0 && LinuxSockets.WouldBlock(received))
            {
                _ready &= ~(readable | toEnd);
                return;
            }

            if (received == 0 && leg.Tracker.CloseSeen && !Leg(Other(from)).Tracker.CloseSeen)
            {
                // The peer half-closed after its close frame: the other peer's answer may still come and goes to it
                // (RFC 6455 §7.1.1), within the close timeout.
                _halfClosed |= readable;
                _halfCloseDeadline = _loop.Now + (long)_settings.CloseTimeout.TotalMilliseconds;
                return;
            }

            if (received <= 0)
            {
                // The end of the stream, or a failed connection (a reset).
                var gone = from == ClientSide ? AttachEndReason.ClientGone : AttachEndReason.RuntimeGone;
                TryEnd(received == 0 || from == RuntimeSide ? EndOfStream(gone) : gone);
                return;
            }

            if (from == ClientSide)
            {
                _clientReads++;
            }

            leg.Tracker.ResetPending();
            if (!Forward(from, scratch.AsSpan(0, filled + received)))
            {
                return;
            }

            // A short read drained the socket for now, unless the peer's end came with it: then read on to the end.
            if (filled + received < scratch.Length && (_ready & toEnd) == 0)
            {
                _ready &= ~readable;
                return;
            }
        }
    }

    /// <summary>Forwards bytes read earlier (with a handshake), through the loop's buffer like any read.</summary>
    private void ForwardHeld(int from, ReadOnlySpan<byte> bytes)
    {
        ref var leg = ref Leg(from);
        var scratch = _loop.Scratch;
        while (!bytes.IsEmpty && !IsEnded)
        {
            var filled = leg.Tracker.CopyPendingTo(scratch);
            var take = Math.Min(bytes.Length, scratch.Length - filled);
            bytes[..take].CopyTo(scratch.AsSpan(filled));
            bytes = bytes[take..];
            leg.Tracker.ResetPending();
            if (!Forward(from, scratch.AsSpan(0, filled + take)))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Tracks <paramref name="data"/> and sends it to the other peer: all of it but a frame cut at the end (held by the
    /// tracker), less a keep-alive pong (dropped), up to a violation (which ends the attach). False when the attach ended.
    /// </summary>
    private bool Forward(int from, ReadOnlySpan<byte> data)
    {
        if (from == ClientSide && _guarded)
        {
            // Under a policy (docs/policy.md). Both callers pass the start of the loop's buffer.
            return ForwardUnderPolicy(_loop.Scratch, data.Length);
        }

        ref var leg = ref Leg(from);
        var to = Other(from);
        var sent = 0;
        var offset = 0;
        while (true)
        {
            var stop = Scan(from, data, ref offset, out var cutStart);
            switch (stop)
            {
                case ScanStop.DropFrame:
                    SendTo(to, data[sent..cutStart]);
                    sent = offset;
                    continue;
                case ScanStop.Violation:
                    SendTo(to, data[sent..cutStart]);
                    leg.AddBytes(data.Length);
                    leg.PublishFrameCounts();
                    TryEnd(ViolationReason(leg.Tracker.Violation, fromClient: from == ClientSide));
                    return false;
                default:
                    var forwardEnd = data.Length - leg.Tracker.PendingBytes;
                    SendTo(to, data[sent..forwardEnd]);
                    leg.AddBytes(forwardEnd);
                    leg.PublishFrameCounts();
                    if (from == RuntimeSide && _answersLength > 0)
                    {
                        SendAnswers(); // answers to refused commands that waited on a runtime frame
                    }
                    if (_fromClient.Tracker.CloseSeen && _fromRuntime.Tracker.CloseSeen)
                    {
                        // Both closes have passed: nothing may follow them, so the attach ends here whether or not
                        // the peers end TCP (what is held for a peer still goes to it first).
                        TryEnd(EndOfStream(AttachEndReason.ClientGone));
                    }

                    return !IsEnded;
            }
        }
    }

    /// <summary>
    /// Runs the sender's tracker over <paramref name="data"/> from <paramref name="offset"/>, stopping early at a frame to
    /// drop (a pong answering the relay's ping) or a violation: <paramref name="cutStart"/> is where that frame starts and
    /// <paramref name="offset"/> ends just after it. Every frame in flight starts within <paramref name="data"/>: the bytes
    /// of one cut by an earlier read were put back in front of it.
    /// </summary>
    private ScanStop Scan(int from, ReadOnlySpan<byte> data, ref int offset, out int cutStart)
    {
        ref var leg = ref Leg(from);
        cutStart = 0;
        while (offset < data.Length)
        {
            var start = offset;
            var payloadBefore = leg.Tracker.PayloadRemaining;
            var status = leg.Tracker.Track(data[offset..], out var consumed);
            if (leg.Prefix is { Gathering: true } gathering && payloadBefore > 0)
            {
                gathering.Feed(data.Slice(offset, (int)Math.Min(consumed, payloadBefore)));
            }

            if (_resultNeeded > 0 && from == RuntimeSide && payloadBefore > 0)
            {
                GatherResult(data.Slice(offset, (int)Math.Min(consumed, payloadBefore))); // docs/policy.md: targets this attach created
            }

            if (from == RuntimeSide && payloadBefore > 0 && _observer?.Capture is { Active: true } capture)
            {
                capture.Feed(data.Slice(offset, (int)Math.Min(consumed, payloadBefore)), consumed >= payloadBefore);
            }

            offset += consumed;
            switch (status)
            {
                case TrackStatus.NeedMoreData:
                    continue;
                case TrackStatus.DataFrameHeader:
                    if (from == RuntimeSide && _policy is not null)
                    {
                        WatchRuntimeMessage(leg.Tracker.Header);
                    }

                    if (from == RuntimeSide)
                    {
                        _observer?.Capture?.OnFrameIfActive(leg.Tracker.Header);
                    }

                    if (_observer is not null && leg.Tracker.Header.Opcode == WebSocketOpcode.Text)
                    {
                        Observe(from, data, offset, leg.Tracker.Header);
                    }

                    continue;
                case TrackStatus.ControlFrame:
                    var header = leg.Tracker.Header;
                    if (from == ClientSide && header.Opcode == WebSocketOpcode.Pong && IsKeepAlivePong())
                    {
                        cutStart = offset - (int)header.FrameLength;
                        return ScanStop.DropFrame;
                    }

                    if (header.Opcode == WebSocketOpcode.Close)
                    {
                        RecordClose(ref leg, fromClient: from == ClientSide, ClosePayloadCode(ref leg.Tracker));
                    }

                    continue;
                default:
                    cutStart = start + consumed;
                    return ScanStop.Violation;
            }
        }

        return ScanStop.EndOfData;
    }

    /// <summary>
    /// Offers the first frame of a text message to the sampler, read where it lies in the loop's buffer: runtime frames
    /// as they are, client frames unmasked in a bounded copy (the forwarded bytes stay masked). A prefix cut by the end
    /// of the read is gathered as the payload passes.
    /// </summary>
    private void Observe(int from, ReadOnlySpan<byte> data, int payloadStart, in FrameHeader header)
    {
        ref var leg = ref Leg(from);
        var length = (int)Math.Min(_observer!.PrefixBytes, header.PayloadLength);
        if (data.Length - payloadStart < length)
        {
            leg.Prefix!.Begin(header);
            return;
        }

        var whole = header.Fin && length == header.PayloadLength;
        if (from == RuntimeSide)
        {
            _observer.OnRuntimeMessage(data.Slice(payloadStart, length), header.PayloadLength, whole, header.Fin);
            return;
        }

        Span<byte> prefix = stackalloc byte[_observer.PrefixBytes];
        prefix = prefix[..length];
        data.Slice(payloadStart, length).CopyTo(prefix);
        WebSocketMask.Apply(prefix, header.MaskKey, payloadOffset: 0);
        _observer.OnClientMessage(prefix, header.PayloadLength, whole);
    }

    /// <summary>
    /// Sends <paramref name="data"/> to the peer on <paramref name="to"/>, straight from where it lies; what the peer does
    /// not take now is held for it (after anything held already, so order is kept) and its wait is timed as a stall.
    /// False when that peer's connection failed.
    /// </summary>
    private bool SendTo(int to, ReadOnlySpan<byte> data)
    {
        var fd = to == ClientSide ? _clientFd : _runtimeFd;
        if (fd < 0)
        {
            return false;
        }

        if (data.IsEmpty)
        {
            return true;
        }

        ref var held = ref HeldFor(to);
        ref var leg = ref Leg(Other(to));
        var sent = 0;
        if (held.IsEmpty)
        {
            sent = LinuxSockets.Send(fd, data);
            if (sent == data.Length)
            {
                return true;
            }

            if (sent < 0 && !LinuxSockets.WouldBlock(sent))
            {
                Failed(to);
                return false;
            }

            sent = Math.Max(sent, 0);
            leg.Block(_loop.Now, 0);
        }

        held.Append(data[sent..]);
        leg.Hold(held.Count);
        return true;
    }

    /// <summary>The peer on <paramref name="to"/> can take bytes again: send it what is held, and read its sender again once all went.</summary>
    private void Drain(int to)
    {
        ref var held = ref HeldFor(to);
        if (held.IsEmpty)
        {
            return;
        }

        var fd = to == ClientSide ? _clientFd : _runtimeFd;
        var left = fd < 0 ? -1 : held.SendTo(fd);
        ref var leg = ref Leg(Other(to));
        if (left < 0)
        {
            Failed(to);
            return;
        }

        if (left == 0)
        {
            leg.Unblock();
            return;
        }

        // Some went: the peer reads, if slowly; the stall clock starts again.
        leg.Block(_loop.Now, left);
    }

    /// <summary>A send to <paramref name="to"/> failed: that peer is gone, and what was held for it with it.</summary>
    private void Failed(int to)
    {
        HeldFor(to).Release();
        Leg(Other(to)).Unblock();
        // A peer whose own close has passed is not "gone" but done: it closed TCP after its close handshake.
        if (to == ClientSide)
        {
            _clientFailed = true;
            TryEnd(_fromClient.Tracker.CloseSeen ? EndOfStream(AttachEndReason.ClientGone) : AttachEndReason.ClientGone);
        }
        else
        {
            _runtimeFailed = true;
            TryEnd(_fromRuntime.Tracker.CloseSeen ? EndOfStream(AttachEndReason.RuntimeGone) : AttachEndReason.RuntimeGone);
        }
    }

    private static int Other(int side) => 1 - side;

    private ref SpliceLeg Leg(int from) => ref from == ClientSide ? ref _fromClient : ref _fromRuntime;

    private ref HeldBytes HeldFor(int to) => ref to == ClientSide ? ref _heldForClient : ref _heldForRuntime;
}
