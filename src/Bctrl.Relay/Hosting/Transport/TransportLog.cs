namespace Bctrl.Relay.Hosting.Transport;

/// <summary>The listeners' log lines (event ids 60–69).</summary>
internal static partial class TransportLog
{
    [LoggerMessage(60, LogLevel.Warning,
        "Out of file descriptors: {Failures} accepts refused by the system since the last warning on {EndPoint}; answering 503 and backing off.",
        EventName = "OutOfDescriptors")]
    public static partial void OutOfDescriptors(ILogger logger, long failures, string endPoint);
}
