using System.Buffers.Binary;
using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Splice;

internal sealed partial class AttachSplice
{
    /// <summary>
    /// Called by the heartbeat about once a second, never by a pump: ends an attach whose timers ran out and sends the
    /// next keep-alive ping when it is due and the client stream is at a frame boundary.
    /// </summary>
    public override void OnHeartbeat(long nowMilliseconds)
    {
        if (IsEnded)
        {
            return;
        }

        var end = Timers(nowMilliseconds, out var pingDue);
        if (end != AttachEndReason.None)
        {
            Abort(end);
        }
        else if (pingDue)
        {
            TrySendPing(nowMilliseconds);
        }
    }

    private void TrySendPing(long nowMilliseconds)
    {
        // Never wait for the gate: if the runtime pump holds it, data is flowing and a ping can wait a tick.
        if (!_clientWrite.Wait(0))
        {
            return;
        }

        var released = false;
        try
        {
            // Only between frames (docs/design.md §4 item 4): committed client bytes end at a boundary when no payload is owed.
            // Never after the runtime's close has gone to the client: nothing may follow a close (RFC 6455 §5.5.1).
            if (IsEnded || _fromRuntime.Tracker.PayloadRemaining != 0 || _fromRuntime.Tracker.CloseSeen)
            {
                return;
            }

            var span = _clientOutput.GetSpan(RelayFrames.MaxFrameLength);
            _clientOutput.Advance(WriteKeepAlivePing(span, nowMilliseconds));

            var flush = _clientOutput.FlushAsync(_stop.Token);
            if (!flush.IsCompleted)
            {
                released = true;
                _ = ReleaseAfterFlushAsync(flush);
            }
        }
        finally
        {
            if (!released)
            {
                _clientWrite.Release();
            }
        }
    }

    private async Task ReleaseAfterFlushAsync(ValueTask<System.IO.Pipelines.FlushResult> flush)
    {
        try
        {
            await flush.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The pumps see the same failure and record it.
        }
        finally
        {
            _clientWrite.Release();
        }
    }


}
