using System.Buffers;
using Bctrl.Relay.Frames;
using Bctrl.Relay.Splice;

namespace Bctrl.Relay.Loops;

/// <summary>
/// The loop splice's side of a lease's policy and command rate (docs/policy.md, docs/quotas.md): the client's reads
/// are scanned by <see cref="SpliceBase.ScanClientUnderPolicy"/> over the loop's buffer, the held copy of an allowed
/// command goes to the runtime like any bytes (held for it when it does not read, so order is kept), and the relay's
/// answers go to the client when its stream is at a frame boundary. All on the loop thread: nothing here blocks.
/// </summary>
internal sealed partial class LoopSplice
{
    // Answers waiting for the runtime's stream to the client to reach a frame boundary.
    private byte[]? _answers;
    private int _answersLength;

    private protected override void ObserveClientText(in ReadOnlySequence<byte> buffer, long payloadStart, in FrameHeader header)
        => Observe(ClientSide, buffer.FirstSpan, (int)payloadStart, header);

    /// <summary>
    /// <see cref="Forward"/> for the client's bytes under a policy: <paramref name="length"/> bytes at the start of the
    /// loop's buffer. False when the attach ended.
    /// </summary>
    private bool ForwardUnderPolicy(byte[] scratch, int length)
    {
        ref var leg = ref _fromClient;
        var data = scratch.AsSpan(0, length);
        var buffer = new ReadOnlySequence<byte>(scratch, 0, length);
        long position = 0;
        long sent = 0;
        while (true)
        {
            var stop = ScanClientUnderPolicy(buffer, ref position, out var cutStart, out var cutEnd);
            switch (stop)
            {
                case ClientScanStop.DropFrame:
                    SendTo(RuntimeSide, data[(int)sent..(int)cutStart]);
                    if (_p.ReleaseHeld)
                    {
                        SendTo(RuntimeSide, TakeHeldCommand().Span);
                    }

                    sent = cutEnd;
                    if (!QueueAnswers())
                    {
                        return false;
                    }

                    continue;
                case ClientScanStop.Violation:
                case ClientScanStop.PolicyBreach:
                    SendTo(RuntimeSide, data[(int)sent..(int)cutStart]);
                    leg.AddBytes(length);
                    leg.PublishFrameCounts();
                    if (stop == ClientScanStop.PolicyBreach)
                    {
                        _runtimeFrameCut = true; // a close now would complete the runtime's half-sent frame
                        TryEnd(AttachEndReason.PolicyViolation);
                    }
                    else
                    {
                        TryEnd(ViolationReason(leg.Tracker.Violation, fromClient: true));
                    }

                    return false;
                default:
                    var forwardEnd = length - leg.Tracker.PendingBytes;
                    SendTo(RuntimeSide, data[(int)sent..(int)(_p.SkipFrom >= 0 ? _p.SkipFrom : forwardEnd)]);
                    leg.AddBytes(forwardEnd);
                    leg.PublishFrameCounts();
                    EndPolicyBuffer();
                    if (!QueueAnswers())
                    {
                        return false;
                    }

                    if (_fromClient.Tracker.CloseSeen && _fromRuntime.Tracker.CloseSeen)
                    {
                        TryEnd(EndOfStream(AttachEndReason.ClientGone));
                    }

                    return !IsEnded;
            }
        }
    }

    /// <summary>Takes the answers made while scanning and sends what the client's stream has room for now.</summary>
    private bool QueueAnswers()
    {
        if (_p.NewAnswers is not { WrittenCount: > 0 })
        {
            return true;
        }

        if (!QueueNewAnswers(ref _answers, ref _answersLength))
        {
            TryEnd(AttachEndReason.PolicyViolation); // refused commands pile up behind a runtime message
            return false;
        }

        SendAnswers();
        return !IsEnded;
    }

    /// <summary>Sends the waiting answers when the client's stream takes them (<see cref="SpliceBase.ClientStreamTakesAnswers"/>).</summary>
    private void SendAnswers()
    {
        if (_answersLength == 0 || IsEnded || !ClientStreamTakesAnswers)
        {
            return;
        }

        var answers = _answers.AsSpan(0, _answersLength);
        _answersLength = 0;
        SendTo(ClientSide, answers);
    }
}
