using System.Diagnostics.Metrics;

namespace Bctrl.Relay.Metrics;

/// <summary>
/// The live view's instruments on the relay's meter (docs/live-view.md): viewers now, frames sent or replaced, screencasts
/// started, input messages by fate. Counted in plain fields and read by observable instruments at scrape time, as the
/// splice's counts are: a frame costs an interlocked add, never a <c>Counter.Add</c>.
/// </summary>
internal sealed class LiveViewMetrics
{
    private static readonly KeyValuePair<string, object?> Sent = new("result", "sent");
    private static readonly KeyValuePair<string, object?> Dropped = new("result", "dropped");
    private static readonly KeyValuePair<string, object?> Dispatched = new("result", "dispatched");
    private static readonly KeyValuePair<string, object?> NotInteractive = new("result", "not_interactive");
    private static readonly KeyValuePair<string, object?> Invalid = new("result", "invalid");

    private int _viewers;
    private long _framesSent;
    private long _framesDropped;
    private long _screencasts;
    private long _inputDispatched;
    private long _inputNotInteractive;
    private long _inputInvalid;

    public LiveViewMetrics(RelayMetrics relay)
    {
        var meter = relay.Meter;
        meter.CreateObservableUpDownCounter("bctrl.relay.live.viewers", () => Volatile.Read(ref _viewers), "{viewer}", "Live view pages connected now.");
        meter.CreateObservableCounter("bctrl.relay.live.frames", () => new[]
        {
            new Measurement<long>(Volatile.Read(ref _framesSent), Sent),
            new Measurement<long>(Volatile.Read(ref _framesDropped), Dropped),
        }, "{frame}", "Screencast frames per viewer: sent, or dropped because a newer frame replaced it before the viewer took it.");
        meter.CreateObservableCounter("bctrl.relay.live.screencasts", () => Volatile.Read(ref _screencasts), "{screencast}",
            "Page.startScreencast commands the relay sent: one per live lease being viewed and per tab it follows, whatever the number of viewers.");
        meter.CreateObservableCounter("bctrl.relay.live.input", () => new[]
        {
            new Measurement<long>(Volatile.Read(ref _inputDispatched), Dispatched),
            new Measurement<long>(Volatile.Read(ref _inputNotInteractive), NotInteractive),
            new Measurement<long>(Volatile.Read(ref _inputInvalid), Invalid),
        }, "{message}", "Input messages from viewers: dispatched to the runtime, dropped on a lease that is not interactive, or refused as invalid.");
    }

    public int Viewers => Volatile.Read(ref _viewers);

    public long FramesSent => Volatile.Read(ref _framesSent);

    public long FramesDropped => Volatile.Read(ref _framesDropped);

    public long ScreencastsStarted => Volatile.Read(ref _screencasts);

    public long InputDropped => Volatile.Read(ref _inputNotInteractive);

    public long InputDispatched => Volatile.Read(ref _inputDispatched);

    public long InputRefused => Volatile.Read(ref _inputInvalid);

    public void ViewerJoined() => Interlocked.Increment(ref _viewers);

    public void ViewerLeft() => Interlocked.Decrement(ref _viewers);

    public void FrameSent() => Interlocked.Increment(ref _framesSent);

    public void FrameDropped() => Interlocked.Increment(ref _framesDropped);

    public void ScreencastStarted() => Interlocked.Increment(ref _screencasts);

    public void InputWasDispatched() => Interlocked.Increment(ref _inputDispatched);

    public void InputNotInteractive() => Interlocked.Increment(ref _inputNotInteractive);

    public void InputInvalid() => Interlocked.Increment(ref _inputInvalid);
}
