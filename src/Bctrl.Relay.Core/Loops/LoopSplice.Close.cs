using System.Net.Sockets;
using System.Security.Cryptography;
using Bctrl.Relay.Frames;
using Bctrl.Relay.Splice;

namespace Bctrl.Relay.Loops;

internal sealed partial class LoopSplice
{
    private long _closeDeadline;
    private CloseFrame _toClient;
    private CloseFrame _toRuntime;
    private bool _clientClosePending;
    private bool _runtimeClosePending;
    private bool _sentToClient;
    private bool _sentToRuntime;
    private bool _awaitingClientClose;
    private bool _runtimeCloseIsOurs;
    private bool _clientCloseIsOurs;
    private bool _clientFailed;
    private bool _runtimeFailed;

    /// <summary>
    /// The loop's tick while splicing: the timers both splices share (stalls, keep-alive), the half-close deadline,
    /// and the next keep-alive ping when it is due.
    /// </summary>
    private void KeepTime(long now)
    {
        if (_halfClosed != Readiness.None && now >= _halfCloseDeadline)
        {
            TryEnd(EndOfStream(AttachEndReason.ClientGone)); // the answer to a half-closed peer's close did not come
            return;
        }

        var end = Timers(now, out var pingDue);
        if (end != AttachEndReason.None)
        {
            TryEnd(end);
        }
        else if (pingDue)
        {
            SendPing(now);
        }
    }

    private void SendPing(long now)
    {
        // Only between frames, never after the runtime's close went to the client (RFC 6455 §5.5.1), and not into
        // bytes the client is not taking: the stall timeout speaks for that client.
        if (_fromRuntime.Tracker.PayloadRemaining != 0 || _fromRuntime.Tracker.CloseSeen || !_heldForClient.IsEmpty)
        {
            return;
        }

        Span<byte> frame = stackalloc byte[RelayFrames.MaxFrameLength];
        SendTo(ClientSide, frame[..WriteKeepAlivePing(frame, now)]);
    }

    /// <summary>
    /// The attach has ended: each leg gets the relay's close if this end calls for one and its stream is at a frame
    /// boundary (the pipe splice's rules: nothing after a close already passed, nothing after a send left unfinished).
    /// The runtime's connection ends once its close is sent; the client's once it answers, within the close timeout.
    /// </summary>
    private void BeginClose()
    {
        _phase = Phase.Closing;
        _closeDeadline = _loop.Now + (long)_settings.CloseTimeout.TotalMilliseconds;
        (_toClient, _toRuntime) = CloseCodes.For(Reason, _violation);
        Span<byte> frame = stackalloc byte[RelayFrames.MaxFrameLength];

        if (!_toRuntime.IsNone && _runtimeFd >= 0 && _heldForRuntime.IsEmpty && !_runtimeFrameCut
            && _fromClient.Tracker.PayloadRemaining == 0 && !_fromClient.Tracker.CloseSeen)
        {
            // Masked: the relay is the runtime's client.
            var length = RelayFrames.WriteClose(frame, _toRuntime.Code, _toRuntime.Reason, RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue));
            _runtimeClosePending = _runtimeCloseIsOurs = SendTo(RuntimeSide, frame[..length]);
        }
        else if (_toRuntime.IsNone && !_heldForRuntime.IsEmpty && !_runtimeFailed && Reason is AttachEndReason.ClientClosed or AttachEndReason.RuntimeClosed)
        {
            _runtimeClosePending = true; // a close handshake: the bytes held for the runtime (a close among them) go first
        }

        if (!_runtimeClosePending)
        {
            EndRuntime();
        }

        if (!_toClient.IsNone && _clientFd >= 0 && !_clientFailed
            && _fromRuntime.Tracker.PayloadRemaining == 0 && !_fromRuntime.Tracker.CloseSeen)
        {
            // After anything held for the client: those bytes end at a frame boundary too.
            var length = RelayFrames.WriteClose(frame, _toClient.Code, _toClient.Reason, maskKey: null);
            _clientClosePending = _clientCloseIsOurs = SendTo(ClientSide, frame[..length]);
        }
        else if (_toClient.IsNone && !_heldForClient.IsEmpty && !_clientFailed && Reason is AttachEndReason.ClientClosed or AttachEndReason.RuntimeClosed)
        {
            _clientClosePending = true; // as above, for the client
        }
    }

    /// <summary>Advances a close in progress: each close sent completes its leg; the attach is done when both are.</summary>
    private void StepClose()
    {
        if (_runtimeClosePending && (_heldForRuntime.IsEmpty || _runtimeFailed))
        {
            _runtimeClosePending = false;
            _sentToRuntime = !_runtimeFailed && _runtimeCloseIsOurs;
            EndRuntime();
        }

        if (_clientClosePending && (_heldForClient.IsEmpty || _clientFailed))
        {
            _clientClosePending = false;
            _sentToClient = !_clientFailed && _clientCloseIsOurs;
            if (_sentToClient)
            {
                _awaitingClientClose = true;
                _trackingClientClose = _fromClient.Tracker.Violation == FrameViolation.None;
            }
        }

        if (_awaitingClientClose)
        {
            ReadClientUntilClose();
        }

        if (_runtimeFd < 0 && !_clientClosePending && !_awaitingClientClose)
        {
            Finish();
        }
    }

    private bool _trackingClientClose;

    /// <summary>Reads the client until its answering close (or the end), discarding everything: the attach is over.</summary>
    private void ReadClientUntilClose()
    {
        var scratch = _loop.Scratch;
        while (true)
        {
            var filled = _fromClient.Tracker.CopyPendingTo(scratch);
            var received = LinuxSockets.Receive(_clientFd, scratch.AsSpan(filled));
            if (received < 0 && LinuxSockets.WouldBlock(received))
            {
                return;
            }

            if (received <= 0)
            {
                _awaitingClientClose = false;
                return;
            }

            _fromClient.Tracker.ResetPending();
            if (_trackingClientClose && ContainsClose(scratch.AsSpan(0, filled + received)))
            {
                _awaitingClientClose = false;
                return;
            }
        }
    }

    private bool ContainsClose(ReadOnlySpan<byte> data)
    {
        var offset = 0;
        while (offset < data.Length)
        {
            var status = _fromClient.Tracker.Track(data[offset..], out var consumed);
            offset += consumed;
            if (status == TrackStatus.Violation
                || (status == TrackStatus.ControlFrame && _fromClient.Tracker.Header.Opcode == WebSocketOpcode.Close))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Ends the runtime's connection (both ways) and closes its descriptor.</summary>
    private void EndRuntime()
    {
        if (_runtimeFd < 0)
        {
            return;
        }

        _heldForRuntime.Release();
        _fromClient.Unblock();
        LinuxSockets.Shutdown(_runtimeFd, SocketShutdown.Both);
        _loop.Close(_runtimeToken, _runtimeFd);
        _runtimeFd = -1;
    }

    /// <summary>Closes what is left open, gives back every buffer, and hands the summary to the thread pool.</summary>
    private void Finish()
    {
        if (_phase == Phase.Done)
        {
            return;
        }

        _phase = Phase.Done;
        EndRuntime();
        if (_clientFd >= 0)
        {
            _heldForClient.Release();
            _fromRuntime.Unblock();
            LinuxSockets.Shutdown(_clientFd, SocketShutdown.Send);
            _loop.Close(_clientToken, _clientFd);
            _clientFd = -1;
            _clientReleased?.Invoke();
        }

        _fromClient.Prefix?.Release();
        _fromRuntime.Prefix?.Release();
        _observer?.Capture?.Abandon(); // a message cut off by the end is no artifact
        ReleasePolicyBuffers();
        _loop.RemoveTicker(this, attach: true);
        _summary = new AttachSummary(
            Reason,
            _violation == FrameViolation.None ? string.Empty : CloseCodes.Describe(_violation),
            _sentToClient ? _toClient : default,
            _sentToRuntime ? _toRuntime : default,
            _fromClient.CloseCode,
            _fromRuntime.CloseCode,
            FromClient,
            FromRuntime);
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }
}
