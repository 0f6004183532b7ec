using System.Buffers;

namespace Bctrl.Relay.Splice;

/// <summary>The pipe splice's side of a lease's policy (docs/policy.md): the held copy and the answers, through its pipes.</summary>
internal sealed partial class AttachSplice
{
    // Guarded by _clientWrite: answers not yet written to the client (its stream was inside a runtime frame).
    private byte[]? _answers;
    private int _answersLength;

    private protected override void ObserveClientText(in ReadOnlySequence<byte> buffer, long payloadStart, in Frames.FrameHeader header)
        => ObserveClientMessage(buffer, payloadStart, header);

    /// <summary>Sends the held copy of an allowed message to the runtime.</summary>
    private ValueTask SendHeldCommandAsync(CancellationToken cancellationToken)
        => SendToRuntimeAsync(new ReadOnlySequence<byte>(TakeHeldCommand()), cancellationToken);

    /// <summary>Hands the answers made while scanning to the client leg, written now if its stream is at a frame boundary.</summary>
    private async ValueTask<bool> DeliverAnswersAsync(CancellationToken cancellationToken)
    {
        await _clientWrite.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!QueueNewAnswers(ref _answers, ref _answersLength))
            {
                return false;
            }

            await WriteAnswersAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _clientWrite.Release();
        }
    }

    /// <summary>
    /// Writes the waiting answers to the client when its stream takes them (<see cref="SpliceBase.ClientStreamTakesAnswers"/>).
    /// The caller holds <see cref="_clientWrite"/>; the runtime pump calls this after each flush, so answers
    /// that waited on a runtime frame go out when it ends.
    /// </summary>
    private async ValueTask WriteAnswersAsync(CancellationToken cancellationToken)
    {
        if (_answersLength == 0 || !ClientStreamTakesAnswers)
        {
            return;
        }

        _clientOutput.Write(_answers.AsSpan(0, _answersLength));
        _answersLength = 0;
        await _clientOutput.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
