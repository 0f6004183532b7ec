using System.IO.Pipelines;
using Bctrl.Relay.Frames;
using Bctrl.Relay.Observation;
using Bctrl.Relay.Policy;

namespace Bctrl.Relay.Splice;

/// <summary>
/// One attach's splice: two pumps (client to runtime, runtime to client) and a supervisor. The first pump to end
/// records why, the supervisor cancels the other, awaits it, sends each leg its close frame, then releases the
/// runtime socket (YARP's <c>HttpForwarder</c> duplex shape).
/// </summary>
/// <remarks>
/// The client side is Kestrel's transport pipe pair, reached after the upgrade; the runtime side is a raw socket
/// (<see cref="RuntimeLink"/>).
/// Client bytes are sent from Kestrel's receive buffers straight to the runtime socket; runtime bytes are received
/// straight into Kestrel's send buffers. No payload is copied by the relay on either way.
/// </remarks>
internal sealed partial class AttachSplice : SpliceBase, IDisposable
{
    /// <summary>Kestrel's pinned pool hands out 4 KiB blocks; larger asks allocate (docs/design.md §10).</summary>
    internal const int BlockSize = 4096;

    private readonly PipeReader _clientInput;
    private readonly PipeWriter _clientOutput;
    private readonly RuntimeLink _runtime;
    private readonly SpliceClock _clock;
    private readonly CancellationTokenSource _stop = new();

    // Everything written to the client goes through this gate: the runtime pump, keep-alive pings, the final close.
    private readonly SemaphoreSlim _clientWrite = new(1, 1);

    private byte[]? _runtimeLeftover;

    private bool _runtimeSendInterrupted;
    private long _committedSinceFlush;

    public AttachSplice(
        IDuplexPipe client, RuntimeLink runtime, ReadOnlyMemory<byte> runtimeLeftover, SpliceSettings settings, SpliceClock clock, AttachObserver? observer = null, MethodPolicy? policy = null,
        CommandBucket? rate = null)
        : base(settings, observer, clock.NowMilliseconds)
    {
        Guard(policy, rate);
        _clientInput = client.Input;
        _clientOutput = client.Output;
        _runtime = runtime;
        _runtimeLeftover = runtimeLeftover.IsEmpty ? null : runtimeLeftover.ToArray();
        _clock = clock;
    }

    public async Task<AttachSummary> RunAsync()
    {
        var toRuntime = PumpClientToRuntimeAsync();
        var toClient = PumpRuntimeToClientAsync();
        await Task.WhenAny(toRuntime, toClient).ConfigureAwait(false);
        if (!IsEnded)
        {
            // A peer half-closed after its close frame: the other peer's answer still goes to it (RFC 6455 §7.1.1),
            // within the close timeout.
            await Task.WhenAny(Task.WhenAll(toRuntime, toClient), Task.Delay(_settings.CloseTimeout)).ConfigureAwait(false);
            TryEnd(EndOfStream(AttachEndReason.ClientGone));
        }

        // The first pump to end has recorded why; this only matters if one returned without a reason.
        TryEnd(AttachEndReason.RelayFault);
        _stop.Cancel();
        await Task.WhenAll(toRuntime, toClient).ConfigureAwait(false);

        var (toClientClose, toRuntimeClose) = CloseCodes.For(Reason, _violation);
        // Both legs at once: the runtime's close must not wait while the relay lingers (up to CloseTimeout) for the
        // client's answering close. The runtime's close is started first because it reads the client tracker before
        // its first await, and AwaitClientCloseAsync moves that tracker on.
        var closingRuntime = CloseRuntimeAsync(toRuntimeClose);
        var sentToClient = await CloseClientAsync(toClientClose).ConfigureAwait(false);
        var sentToRuntime = await closingRuntime.ConfigureAwait(false);

        return new AttachSummary(
            Reason,
            _violation == FrameViolation.None ? string.Empty : CloseCodes.Describe(_violation),
            sentToClient,
            sentToRuntime,
            _fromClient.CloseCode,
            _fromRuntime.CloseCode,
            FromClient,
            FromRuntime);
    }

    /// <summary>Ends the attach from outside (terminate, drain, heartbeat); the first reason recorded wins.</summary>
    public override void Abort(AttachEndReason reason)
    {
        if (TryEnd(reason))
        {
            _stop.Cancel();
        }
    }

    public void Dispose()
    {
        _fromClient.Prefix?.Release();
        _fromRuntime.Prefix?.Release();
        _observer?.Capture?.Abandon(); // a message cut off by the end is no artifact
        ReleasePolicyBuffers();
        _stop.Dispose();
        _clientWrite.Dispose();
        _runtime.Dispose();
    }
}
