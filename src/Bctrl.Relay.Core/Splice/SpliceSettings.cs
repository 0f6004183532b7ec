namespace Bctrl.Relay.Splice;

/// <summary>The knobs of one splice, from <c>Relay:Limits</c> and <c>Relay:KeepAlive</c>.</summary>
internal sealed record SpliceSettings(
    long MaxMessageBytes,
    TimeSpan KeepAliveInterval,
    TimeSpan KeepAliveTimeout,
    TimeSpan StallTimeout,
    TimeSpan CloseTimeout);

