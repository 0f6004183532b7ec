using System.Buffers.Binary;
using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Splice;

internal sealed partial class AttachSplice
{
    /// <summary>Relay pings carry "BCKA" and a sequence number, so the client's pongs to them can be told apart and dropped.</summary>
    private const uint KeepAliveMagic = 0x42434B41; // "BCKA" big-endian: 0x42 B, 0x43 C, 0x4B K, 0x41 A

    private long _clientReads;
    private long _clientReadsAtPing;
    private long _pingSentAt;
    private long _lastPingAt;
    private uint _pingSequence;

    /// <summary>
    /// Called by the heartbeat about once a second, never by a pump: times stalled writes, times out a client that
    /// answers no ping, and sends the next keep-alive ping when it is due and the client stream is at a frame boundary.
    /// </summary>
    public void OnHeartbeat(long nowMilliseconds)
    {
        if (IsEnded)
        {
            return;
        }

        // A leg stalls on its receiver: the runtime's bytes wait on the client's flush, the client's on the runtime's send.
        var stall = (long)_settings.StallTimeout.TotalMilliseconds;
        if (_fromRuntime.StalledFor(nowMilliseconds) >= stall)
        {
            Abort(AttachEndReason.ClientStalled);
            return;
        }

        if (_fromClient.StalledFor(nowMilliseconds) >= stall)
        {
            Abort(AttachEndReason.RuntimeStalled);
            return;
        }

        if (_pingSentAt != 0)
        {
            if (Volatile.Read(ref _clientReads) != _clientReadsAtPing)
            {
                _pingSentAt = 0; // the client spoke since the ping: it is alive
            }
            else if (_fromClient.IsBlocked)
            {
                // The relay is not reading the client: its send to the runtime waits, so the client's answer (and
                // everything behind it) sits unread in the pipe. The client owes a pong only while the relay reads it,
                // so the wait starts again when reading resumes; a runtime that never reads ends as RuntimeStalled at
                // the stall timeout, above (issue 8, finding 7).
                _pingSentAt = nowMilliseconds | 1;
            }
            else if (nowMilliseconds - _pingSentAt >= (long)_settings.KeepAliveTimeout.TotalMilliseconds)
            {
                Abort(AttachEndReason.KeepAliveTimeout);
                return;
            }
        }

        if (_pingSentAt == 0 && nowMilliseconds - _lastPingAt >= (long)_settings.KeepAliveInterval.TotalMilliseconds)
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

            Span<byte> payload = stackalloc byte[8];
            BinaryPrimitives.WriteUInt32BigEndian(payload, KeepAliveMagic);
            BinaryPrimitives.WriteUInt32BigEndian(payload[4..], ++_pingSequence);
            var span = _clientOutput.GetSpan(RelayFrames.MaxFrameLength);
            _clientOutput.Advance(RelayFrames.WritePing(span, payload, maskKey: null));
            _clientReadsAtPing = Volatile.Read(ref _clientReads);
            _pingSentAt = nowMilliseconds | 1;
            _lastPingAt = nowMilliseconds;

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

    private bool IsKeepAlivePong()
    {
        Span<byte> payload = stackalloc byte[125];
        var length = _fromClient.Tracker.CopyControlPayload(payload);
        return length == 8 && BinaryPrimitives.ReadUInt32BigEndian(payload) == KeepAliveMagic;
    }
}
