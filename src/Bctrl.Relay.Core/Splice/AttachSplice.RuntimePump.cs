using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Splice;

internal sealed partial class AttachSplice
{
    /// <summary>
    /// Up to this many blocks are received per flush when the runtime streams: 16 × 4 KiB is Kestrel's default response
    /// buffer (64 KiB), so a flush then applies backpressure as before. One flush per block made bulk transfers cost a
    /// peek, a receive and a flush per 4 KiB (bench/README.md, splice design).
    /// </summary>
    private const int MaxBlocksPerFlush = 16;

    /// <summary>
    /// Runtime to client: wait for data with a one-byte peek (an idle attach holds no pooled buffer), then receive straight
    /// into blocks of Kestrel's output pipe with non-blocking receives until the socket is drained (or
    /// <see cref="MaxBlocksPerFlush"/>), track them, and commit only whole frames and payload runs. A header or control
    /// frame cut by the end of a receive is not committed: the tracker holds its bytes and puts them at the start of the
    /// next block, so every committed byte ends at a point where a relay frame may follow.
    /// </summary>
    private async Task PumpRuntimeToClientAsync()
    {
        var cancellationToken = _stop.Token;
        try
        {
            // Receives below are non-blocking; the only wait is for data, holding no buffer.
            var dataWaiting = false;
            while (true)
            {
                if (_runtimeLeftover is null && !dataWaiting)
                {
                    // An idle attach waits here with no pooled buffer and without the client write gate, so its
                    // keep-alive pings go out.
                    await _runtime.WaitForDataAsync(cancellationToken).ConfigureAwait(false);
                }

                await _clientWrite.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    var (blocks, end) = ReceiveBlocks(out dataWaiting);
                    if (blocks > 0)
                    {
                        var flushed = await FlushToClientAsync(cancellationToken).ConfigureAwait(false);
                        if (flushed.IsCompleted && end == AttachEndReason.None)
                        {
                            end = AttachEndReason.ClientGone;
                        }

                        if (_answersLength > 0)
                        {
                            await WriteAnswersAsync(cancellationToken).ConfigureAwait(false); // answers that waited on a runtime frame
                        }
                    }

                    if (end == AttachEndReason.RuntimeClosed && !_fromClient.Tracker.CloseSeen)
                    {
                        return; // half-closed after its close: the supervisor waits for the client's answer
                    }

                    if (end != AttachEndReason.None)
                    {
                        TryEnd(end);
                        return;
                    }
                }
                finally
                {
                    _clientWrite.Release();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped by the supervisor or an abort: the reason is recorded already.
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            TryEnd(EndOfStream(AttachEndReason.RuntimeGone));
        }
        catch (IOException)
        {
            TryEnd(AttachEndReason.ClientGone);
        }
        catch (Exception)
        {
            TryEnd(AttachEndReason.RelayFault);
        }
    }

    /// <summary>
    /// Receives and commits blocks while the runtime has data at hand. Returns how many blocks were committed and, when
    /// the attach must end (end of stream, violation), why; <paramref name="dataWaiting"/> says the last block was full
    /// and the cap was reached, so the next round may skip the peek.
    /// </summary>
    private (int Blocks, AttachEndReason End) ReceiveBlocks(out bool dataWaiting)
    {
        dataWaiting = false;
        for (var blocks = 0; blocks < MaxBlocksPerFlush; blocks++)
        {
            var memory = _clientOutput.GetMemory(BlockSize);
            var span = memory.Span[..Math.Min(memory.Length, BlockSize)];
            var filled = _fromRuntime.Tracker.CopyPendingTo(span);
            int received;
            if (_runtimeLeftover is { } leftover)
            {
                // Bytes the runtime sent right behind its 101, read with the handshake.
                received = Math.Min(leftover.Length, span.Length - filled);
                leftover.AsSpan(0, received).CopyTo(span[filled..]);
                _runtimeLeftover = received == leftover.Length ? null : leftover[received..];
            }
            else
            {
                received = _runtime.TryReceive(span[filled..]);
                if (received == RuntimeLink.NothingWaiting)
                {
                    return (blocks, AttachEndReason.None);
                }

                if (received == 0)
                {
                    return (blocks, EndOfStream(AttachEndReason.RuntimeGone));
                }
            }

            _fromRuntime.Tracker.ResetPending();
            var commit = ScanRuntime(span[..(filled + received)], out var violation);
            _clientOutput.Advance(commit);
            _committedSinceFlush += commit;
            _fromRuntime.AddBytes(commit);
            _fromRuntime.PublishFrameCounts();
            if (violation)
            {
                return (blocks + 1, ViolationReason(_fromRuntime.Tracker.Violation, fromClient: false));
            }

            if (BothClosesPassed)
            {
                return (blocks + 1, EndOfStream(AttachEndReason.RuntimeGone));
            }

            if (filled + received < span.Length)
            {
                return (blocks + 1, AttachEndReason.None); // a short read: the socket is drained for now
            }
        }

        dataWaiting = true;
        return (MaxBlocksPerFlush, AttachEndReason.None);
    }

    /// <summary>Tracks a received block; returns how many bytes to commit (all but a held-back partial frame, or up to a violation).</summary>
    private int ScanRuntime(ReadOnlySpan<byte> data, out bool violation)
    {
        violation = false;
        var offset = 0;
        while (true)
        {
            var payloadBefore = _fromRuntime.Tracker.PayloadRemaining;
            var status = _fromRuntime.Tracker.Track(data[offset..], out var consumed);
            if (_fromRuntime.Prefix is { Gathering: true } gathering && payloadBefore > 0)
            {
                gathering.Feed(data.Slice(offset, (int)Math.Min(consumed, payloadBefore)));
            }

            if (_resultNeeded > 0 && payloadBefore > 0)
            {
                GatherResult(data.Slice(offset, (int)Math.Min(consumed, payloadBefore))); // docs/policy.md: targets this attach created
            }

            if (payloadBefore > 0 && _observer?.Capture is { Active: true } capture)
            {
                capture.Feed(data.Slice(offset, (int)Math.Min(consumed, payloadBefore)), consumed >= payloadBefore);
            }

            offset += consumed;
            switch (status)
            {
                case TrackStatus.NeedMoreData:
                    return data.Length - _fromRuntime.Tracker.PendingBytes;
                case TrackStatus.DataFrameHeader:
                    if (_policy is not null)
                    {
                        WatchRuntimeMessage(_fromRuntime.Tracker.Header);
                    }

                    _observer?.Capture?.OnFrameIfActive(_fromRuntime.Tracker.Header);

                    // The first frame of a text message is offered to the sampler: runtime frames are not masked, so
                    // the prefix is read where it lies, with no copy.
                    if (_observer is not null && _fromRuntime.Tracker.Header.Opcode == WebSocketOpcode.Text)
                    {
                        var header = _fromRuntime.Tracker.Header;
                        var length = (int)Math.Min(_observer.PrefixBytes, header.PayloadLength);
                        if (data.Length - offset < length)
                        {
                            _fromRuntime.Prefix!.Begin(header); // the prefix runs past this read: gather it as it passes
                        }
                        else
                        {
                            _observer.OnRuntimeMessage(data.Slice(offset, length), header.PayloadLength, isWholeMessage: header.Fin && length == header.PayloadLength, header.Fin);
                        }
                    }

                    continue;
                case TrackStatus.ControlFrame:
                    if (_fromRuntime.Tracker.Header.Opcode == WebSocketOpcode.Close)
                    {
                        RecordClose(ref _fromRuntime, fromClient: false, ClosePayloadCode(ref _fromRuntime.Tracker));
                    }

                    continue;
                default:
                    violation = true;
                    return offset;
            }
        }
    }

    /// <summary>Flushes to the client; a flush that waits means the client reads slower than the runtime writes.</summary>
    // Pooled, like SendToRuntimeAsync: a flush that waits must not allocate its state machine.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FlushResult> FlushToClientAsync(CancellationToken cancellationToken)
    {
        var flush = _clientOutput.FlushAsync(cancellationToken);
        var committed = _committedSinceFlush;
        _committedSinceFlush = 0;
        if (flush.IsCompletedSuccessfully)
        {
            return flush.Result;
        }

        _fromRuntime.Block(_clock.NowMilliseconds, committed);
        try
        {
            return await flush.ConfigureAwait(false);
        }
        finally
        {
            _fromRuntime.Unblock();
        }
    }
}
