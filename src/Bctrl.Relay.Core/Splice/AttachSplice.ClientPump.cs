using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Splice;

internal sealed partial class AttachSplice
{
    /// <summary>
    /// Client to runtime: the canonical <see cref="System.IO.Pipelines.PipeReader"/> loop over Kestrel's input. Whole
    /// frames and whole payload runs are sent from Kestrel's buffers to the runtime socket as they are (client frames
    /// are masked already, and the relay is the runtime's client). A header or control frame cut by the end of the
    /// buffer is not sent: it stays in the pipe (<c>AdvanceTo(consumed, examined)</c>) until it is whole, so that a
    /// pong answering the relay's keep-alive can be dropped whole and a close can be inserted at a frame boundary.
    /// </summary>
    private async Task PumpClientToRuntimeAsync()
    {
        var cancellationToken = _stop.Token;
        try
        {
            while (true)
            {
                var result = await _clientInput.ReadAsync(cancellationToken).ConfigureAwait(false);
                _clientReads++;
                var buffer = result.Buffer;
                long sent = 0;
                long position = 0;
                while (true)
                {
                    long cutStart, cutEnd;
                    var stop = !_guarded
                        ? ScanClient(buffer, ref position, out cutStart, out cutEnd)
                        : ScanClientUnderPolicy(buffer, ref position, out cutStart, out cutEnd);
                    if (stop == ClientScanStop.DropFrame)
                    {
                        await SendToRuntimeAsync(buffer.Slice(sent, cutStart - sent), cancellationToken).ConfigureAwait(false);
                        if (_guarded && _p.ReleaseHeld)
                        {
                            await SendHeldCommandAsync(cancellationToken).ConfigureAwait(false);
                        }

                        sent = cutEnd;
                        if (_guarded && _p.NewAnswers is { WrittenCount: > 0 } && !await DeliverAnswersAsync(cancellationToken).ConfigureAwait(false))
                        {
                            _clientInput.AdvanceTo(buffer.End);
                            _fromClient.AddBytes(buffer.Length);
                            TryEnd(AttachEndReason.PolicyViolation); // refused commands pile up behind a runtime frame
                            return;
                        }

                        // A refused command is answered before anything the client sent after it goes on.
                        continue;
                    }

                    if (stop is ClientScanStop.Violation or ClientScanStop.PolicyBreach)
                    {
                        await SendToRuntimeAsync(buffer.Slice(sent, cutStart - sent), cancellationToken).ConfigureAwait(false);
                        _clientInput.AdvanceTo(buffer.End);
                        _fromClient.AddBytes(buffer.Length);
                        if (stop == ClientScanStop.PolicyBreach)
                        {
                            // The runtime may hold part of a frame: a close now would complete it with the close's bytes.
                            _runtimeSendInterrupted = _runtimeFrameCut = true;
                        }

                        TryEnd(stop == ClientScanStop.PolicyBreach ? AttachEndReason.PolicyViolation : ViolationReason(_fromClient.Tracker.Violation, fromClient: true));
                        return;
                    }

                    // End of buffer: hold back a partial header or control frame, and under a policy the bytes of a
                    // message held or swallowed from SkipFrom on.
                    var forwardEnd = buffer.Length - _fromClient.Tracker.PendingBytes;
                    _fromClient.Tracker.ResetPending();
                    var sendEnd = _guarded && _p.SkipFrom >= 0 ? _p.SkipFrom : forwardEnd;
                    await SendToRuntimeAsync(buffer.Slice(sent, sendEnd - sent), cancellationToken).ConfigureAwait(false);
                    _clientInput.AdvanceTo(buffer.GetPosition(forwardEnd), buffer.End);
                    _fromClient.AddBytes(forwardEnd);
                    if (_guarded)
                    {
                        EndPolicyBuffer();
                    }

                    break;
                }

                if (_guarded && _p.NewAnswers is { WrittenCount: > 0 } && !await DeliverAnswersAsync(cancellationToken).ConfigureAwait(false))
                {
                    TryEnd(AttachEndReason.PolicyViolation); // refused commands pile up while the runtime's stream never reaches a boundary
                    return;
                }

                _fromClient.PublishFrameCounts();
                if (BothClosesPassed)
                {
                    TryEnd(EndOfStream(AttachEndReason.ClientGone));
                    return;
                }

                if (result.IsCompleted && _fromClient.Tracker.CloseSeen)
                {
                    return; // half-closed after its close: the supervisor waits for the runtime's answer
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    TryEnd(result.IsCanceled ? AttachEndReason.RelayFault : EndOfStream(AttachEndReason.ClientGone));
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped by the supervisor or an abort: the reason is recorded already.
        }
        catch (Exception exception) when (exception is SocketException or IOException or ObjectDisposedException)
        {
            // A send that failed means the runtime is gone; a read that failed means the client is.
            // A runtime whose own close has passed is not "gone" but done: it closed TCP after its close handshake.
            TryEnd(exception is SocketException or ObjectDisposedException
                ? _fromRuntime.Tracker.CloseSeen ? EndOfStream(AttachEndReason.RuntimeGone) : AttachEndReason.RuntimeGone
                : AttachEndReason.ClientGone);
        }
        catch (Exception)
        {
            TryEnd(AttachEndReason.RelayFault);
        }
    }

    /// <summary>
    /// Runs the client tracker from <paramref name="position"/> to the end of <paramref name="buffer"/>, stopping early
    /// at a frame to drop (a pong answering the relay's ping) or a violation; <paramref name="cutStart"/> is where that
    /// frame starts and <paramref name="position"/> ends just after it.
    /// </summary>
    private ClientScanStop ScanClient(in ReadOnlySequence<byte> buffer, ref long position, out long cutStart, out long cutEnd)
    {
        cutStart = 0;
        cutEnd = 0;
        foreach (var segment in buffer.Slice(position))
        {
            var span = segment.Span;
            var offset = 0;
            while (offset < span.Length)
            {
                // Bytes of a frame begun in an earlier segment of this buffer: on a violation the tracker reports that
                // frame's start as 0 in this span, but the frame really starts this many bytes earlier.
                var heldBefore = _fromClient.Tracker.PendingBytes;
                var payloadBefore = _fromClient.Tracker.PayloadRemaining;
                var status = _fromClient.Tracker.Track(span[offset..], out var consumed);
                if (_fromClient.Prefix is { Gathering: true } gathering && payloadBefore > 0)
                {
                    gathering.Feed(span.Slice(offset, (int)Math.Min(consumed, payloadBefore)));
                }

                offset += consumed;
                switch (status)
                {
                    case TrackStatus.NeedMoreData:
                        continue;
                    case TrackStatus.DataFrameHeader:
                        // Data frames pass through; the first frame of a text message is offered to the sampler.
                        if (_observer is not null && _fromClient.Tracker.Header.Opcode == WebSocketOpcode.Text)
                        {
                            ObserveClientMessage(buffer, position + offset, _fromClient.Tracker.Header);
                        }

                        continue;
                    case TrackStatus.ControlFrame:
                        var header = _fromClient.Tracker.Header;
                        if (header.Opcode == WebSocketOpcode.Pong && IsKeepAlivePong())
                        {
                            position += offset;
                            cutStart = position - header.FrameLength;
                            cutEnd = position;
                            return ClientScanStop.DropFrame;
                        }

                        if (header.Opcode == WebSocketOpcode.Close)
                        {
                            RecordClose(ref _fromClient, fromClient: true, ClosePayloadCode(ref _fromClient.Tracker));
                        }

                        continue;
                    case TrackStatus.Violation:
                        cutStart = position + offset - heldBefore;
                        return ClientScanStop.Violation;
                }
            }

            position += span.Length;
        }

        return ClientScanStop.EndOfBuffer;
    }

    /// <summary>
    /// Copies the bounded prefix of a client message's payload that is already in the buffer, unmasks the copy (the
    /// forwarded bytes stay masked), and hands it to the sampler. The only payload copy on the hot path, and bounded.
    /// </summary>
    private void ObserveClientMessage(in ReadOnlySequence<byte> buffer, long payloadStart, in FrameHeader header)
    {
        Span<byte> prefix = stackalloc byte[_observer!.PrefixBytes];
        var length = (int)Math.Min(prefix.Length, header.PayloadLength);
        if (buffer.Length - payloadStart < length)
        {
            // The prefix runs past this read: gather it as the payload passes.
            _fromClient.Prefix!.Begin(header);
            return;
        }

        prefix = prefix[..length];
        buffer.Slice(payloadStart, length).CopyTo(prefix);
        WebSocketMask.Apply(prefix, header.MaskKey, payloadOffset: 0);
        _observer.OnClientMessage(prefix, header.PayloadLength, isWholeMessage: header.Fin && length == header.PayloadLength);
    }

    // Pooled: a send that waits (backpressure) would otherwise allocate its state machine each time (seen as 1 B per
    // 1 MiB frame in the pump benchmark on a busy machine, against a budget of 0).
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendToRuntimeAsync(ReadOnlySequence<byte> data, CancellationToken cancellationToken)
    {
        foreach (var segment in data)
        {
            var send = _runtime.SendAsync(segment, cancellationToken);
            if (send.IsCompletedSuccessfully)
            {
                continue;
            }

            // The runtime's receive window is full: this is where backpressure shows, and where a stall is timed.
            _fromClient.Block(_clock.NowMilliseconds, data.Length);
            try
            {
                await send.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _runtimeSendInterrupted = true;
                throw;
            }
            finally
            {
                _fromClient.Unblock();
            }
        }
    }
}
