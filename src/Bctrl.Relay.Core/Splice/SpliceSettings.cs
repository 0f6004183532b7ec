namespace Bctrl.Relay.Splice;

/// <summary>The knobs of one splice, from <c>Relay:Limits</c> and <c>Relay:KeepAlive</c>.</summary>
internal sealed record SpliceSettings(
    long MaxMessageBytes,
    TimeSpan KeepAliveInterval,
    TimeSpan KeepAliveTimeout,
    TimeSpan StallTimeout,
    TimeSpan CloseTimeout)
{
    public static SpliceSettings Default { get; } = new(
        MaxMessageBytes: 256L * 1024 * 1024,
        KeepAliveInterval: TimeSpan.FromSeconds(20),
        KeepAliveTimeout: TimeSpan.FromSeconds(20),
        StallTimeout: TimeSpan.FromSeconds(60),
        CloseTimeout: TimeSpan.FromSeconds(2));
}
