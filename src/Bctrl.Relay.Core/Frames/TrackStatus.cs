namespace Bctrl.Relay.Frames;

/// <summary>What <see cref="FrameTracker.Track"/> stopped on.</summary>
internal enum TrackStatus : byte
{
    /// <summary>Every byte given was consumed; the tracker waits for more.</summary>
    NeedMoreData,

    /// <summary>The header of a data frame (text, binary, continuation) has just completed.</summary>
    DataFrameHeader,

    /// <summary>A control frame (close, ping, pong) has just completed, payload included.</summary>
    ControlFrame,

    /// <summary>The stream broke the protocol; see <see cref="FrameTracker.Violation"/>.</summary>
    Violation,
}
