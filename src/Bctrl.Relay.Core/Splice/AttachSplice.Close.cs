using System.Buffers;
using System.Net.Sockets;
using System.Security.Cryptography;
using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Splice;

internal sealed partial class AttachSplice
{
    /// <summary>
    /// Sends the client the relay's close, if this end calls for one, the client stream is at a frame boundary and the
    /// runtime's own close has not been passed to the client already, then waits (bounded) for the client's answering
    /// close so the client reads ours before its connection ends.
    /// </summary>
    /// <remarks>
    /// RFC 6455 §5.5.1: an endpoint sends nothing after its close frame. The runtime's close, once forwarded, was the
    /// last frame the client may receive from this connection, so the relay sends no second one whatever the reason.
    /// Every byte the runtime tracker has validated was committed to the client's pipe, so <see cref="FrameTracker.CloseSeen"/>
    /// means the close was handed to the client.
    /// </remarks>
    private async Task<CloseFrame> CloseClientAsync(CloseFrame close)
    {
        if (close.IsNone || _fromRuntime.Tracker.CloseSeen)
        {
            return default;
        }

        using var timeout = new CancellationTokenSource(_settings.CloseTimeout);
        var sent = false;
        try
        {
            await _clientWrite.WaitAsync(timeout.Token).ConfigureAwait(false);
            try
            {
                if (_fromRuntime.Tracker.PayloadRemaining == 0)
                {
                    var span = _clientOutput.GetSpan(RelayFrames.MaxFrameLength);
                    _clientOutput.Advance(RelayFrames.WriteClose(span, close.Code, close.Reason, maskKey: null));
                    await _clientOutput.FlushAsync(timeout.Token).ConfigureAwait(false);
                    sent = true;
                }
            }
            finally
            {
                _clientWrite.Release();
            }

            if (sent)
            {
                await AwaitClientCloseAsync(timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or InvalidOperationException)
        {
            // The client is gone or slow: its connection ends without the answer.
        }

        return sent ? close : default;
    }

    /// <summary>Reads the client until its close frame (or the end), discarding everything: the attach is over.</summary>
    private async Task AwaitClientCloseAsync(CancellationToken cancellationToken)
    {
        var tracking = _fromClient.Tracker.Violation == FrameViolation.None;
        _fromClient.Tracker.ResetPending();
        while (true)
        {
            var result = await _clientInput.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var closed = tracking && ContainsClose(buffer);
            _clientInput.AdvanceTo(buffer.End);
            if (closed || result.IsCompleted || result.IsCanceled)
            {
                return;
            }
        }
    }

    private bool ContainsClose(in ReadOnlySequence<byte> buffer)
    {
        foreach (var segment in buffer)
        {
            var span = segment.Span;
            var offset = 0;
            while (offset < span.Length)
            {
                var status = _fromClient.Tracker.Track(span[offset..], out var consumed);
                offset += consumed;
                if (status == TrackStatus.Violation)
                {
                    return true;
                }

                if (status == TrackStatus.ControlFrame && _fromClient.Tracker.Header.Opcode == WebSocketOpcode.Close)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Sends the runtime the relay's close (masked: the relay is its client), then ends the connection. Nothing is sent
    /// when the client's own close went to the runtime already (§5.5.1: nothing after a close): a client send either
    /// completed, or was interrupted and then nothing is sent anyway.
    /// </summary>
    private async Task<CloseFrame> CloseRuntimeAsync(CloseFrame close)
    {
        var sent = false;
        if (!close.IsNone && !_runtimeSendInterrupted && _fromClient.Tracker.PayloadRemaining == 0 && !_fromClient.Tracker.CloseSeen)
        {
            var frame = ArrayPool<byte>.Shared.Rent(RelayFrames.MaxFrameLength);
            try
            {
                var length = RelayFrames.WriteClose(frame, close.Code, close.Reason, RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue));
                using var timeout = new CancellationTokenSource(_settings.CloseTimeout);
                await _runtime.SendAsync(frame.AsMemory(0, length), timeout.Token).ConfigureAwait(false);
                sent = true;
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // The runtime is gone or not reading: its connection just ends.
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(frame);
            }
        }

        _runtime.Shutdown();

        return sent ? close : default;
    }
}
