using System.IO.Pipelines;
using System.Net.Sockets;
using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Splice;

internal sealed partial class AttachSplice
{
    /// <summary>
    /// Runtime to client: wait for data with a one-byte peek (an idle attach holds no pooled buffer), then receive straight
    /// into a block of Kestrel's output pipe, track it, and commit only whole frames and payload runs. A header or
    /// control frame cut by the end of a receive is not committed: the tracker holds its bytes and puts them at the
    /// start of the next block, so every committed byte ends at a point where a relay frame may follow.
    /// </summary>
    private async Task PumpRuntimeToClientAsync()
    {
        var cancellationToken = _stop.Token;
        try
        {
            while (true)
            {
                if (_runtimeLeftover is null)
                {
                    // Wait for data holding no pooled buffer: a one-byte peek into the attach's own byte. A zero-byte
                    // receive was tried first, but on Linux it can complete at once with nothing to read (readiness
                    // left over from the handshake's reads), and the pump then blocked in the real receive holding
                    // the client write gate and a 4 KiB block, so idle attaches got no keep-alive ping.
                    await _runtime.ReceiveAsync(_peekByte, SocketFlags.Peek, cancellationToken).ConfigureAwait(false);
                }

                await _clientWrite.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    var memory = _clientOutput.GetMemory(BlockSize);
                    memory = memory[..Math.Min(memory.Length, BlockSize)];
                    var filled = _fromRuntime.CopyPendingTo(memory.Span);
                    _fromRuntime.ResetPending();
                    int received;
                    if (_runtimeLeftover is { } leftover)
                    {
                        // Bytes the runtime sent right behind its 101, read with the handshake.
                        received = Math.Min(leftover.Length, memory.Length - filled);
                        leftover.AsSpan(0, received).CopyTo(memory.Span[filled..]);
                        _runtimeLeftover = received == leftover.Length ? null : leftover[received..];
                    }
                    else
                    {
                        received = await _runtime.ReceiveAsync(memory[filled..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
                        if (received == 0)
                        {
                            TryEnd(EndOfStream(AttachEndReason.RuntimeGone));
                            return;
                        }
                    }

                    var commit = ScanRuntime(memory.Span[..(filled + received)], out var violation);
                    _clientOutput.Advance(commit);
                    Interlocked.Add(ref _bytesFromRuntime, commit);
                    Volatile.Write(ref _framesFromRuntime, _fromRuntime.Frames);
                    Volatile.Write(ref _messagesFromRuntime, _fromRuntime.Messages);

                    var flushed = await FlushToClientAsync(cancellationToken).ConfigureAwait(false);
                    if (violation)
                    {
                        TryEnd(ViolationReason(_fromRuntime.Violation, fromClient: false));
                        return;
                    }

                    if (flushed.IsCompleted)
                    {
                        TryEnd(AttachEndReason.ClientGone);
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

    /// <summary>Tracks a received block; returns how many bytes to commit (all but a held-back partial frame, or up to a violation).</summary>
    private int ScanRuntime(ReadOnlySpan<byte> data, out bool violation)
    {
        violation = false;
        var offset = 0;
        while (true)
        {
            var status = _fromRuntime.Track(data[offset..], out var consumed);
            offset += consumed;
            switch (status)
            {
                case TrackStatus.NeedMoreData:
                    return data.Length - _fromRuntime.PendingBytes;
                case TrackStatus.DataFrameHeader:
                    // The first frame of a text message is offered to the sampler: runtime frames are not masked, so
                    // the prefix is read where it lies, with no copy.
                    if (_observer is not null && _fromRuntime.Header.Opcode == WebSocketOpcode.Text)
                    {
                        var header = _fromRuntime.Header;
                        var prefix = data.Slice(offset, (int)Math.Min(Math.Min(_observer.PrefixBytes, header.PayloadLength), data.Length - offset));
                        _observer.OnRuntimeMessage(prefix, header.PayloadLength, isWholeMessage: header.Fin && prefix.Length == header.PayloadLength);
                    }

                    continue;
                case TrackStatus.ControlFrame:
                    if (_fromRuntime.Header.Opcode == WebSocketOpcode.Close)
                    {
                        RecordClose(fromClient: false, ClosePayloadCode(ref _fromRuntime));
                    }

                    continue;
                default:
                    violation = true;
                    return offset;
            }
        }
    }

    /// <summary>Flushes to the client; a flush that waits means the client reads slower than the runtime writes.</summary>
    private async ValueTask<FlushResult> FlushToClientAsync(CancellationToken cancellationToken)
    {
        var flush = _clientOutput.FlushAsync(cancellationToken);
        if (flush.IsCompletedSuccessfully)
        {
            return flush.Result;
        }

        _clientFlushSince = _clock.NowMilliseconds | 1;
        try
        {
            return await flush.ConfigureAwait(false);
        }
        finally
        {
            _clientFlushSince = 0;
        }
    }
}
