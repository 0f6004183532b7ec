namespace Bctrl.Relay.LiveView;

/// <summary>The live view's log lines (docs/live-view.md), fixed event ids 1100-1199. Nothing per frame; no token or runtime address.</summary>
internal static partial class LiveViewLog
{
    [LoggerMessage(1100, LogLevel.Information, "Live view of connection {ConnectionId} started (runtime {RuntimeId}).", EventName = "LiveSessionStarted")]
    public static partial void SessionStarted(ILogger logger, Guid connectionId, string runtimeId);

    [LoggerMessage(1101, LogLevel.Information, "Live view of connection {ConnectionId} ended: {Reason}; {Frames} frames from the runtime.", EventName = "LiveSessionEnded")]
    public static partial void SessionEnded(ILogger logger, Guid connectionId, string reason, long frames);

    [LoggerMessage(1102, LogLevel.Debug, "Live view of connection {ConnectionId} now shows target {TargetId}.", EventName = "LiveTargetSwitched")]
    public static partial void TargetSwitched(ILogger logger, Guid connectionId, string targetId);

    [LoggerMessage(1103, LogLevel.Debug, "Live viewer joined connection {ConnectionId}; {Viewers} viewing.", EventName = "LiveViewerJoined")]
    public static partial void ViewerJoined(ILogger logger, Guid connectionId, int viewers);

    [LoggerMessage(1104, LogLevel.Debug, "Live viewer left connection {ConnectionId}; {Viewers} viewing.", EventName = "LiveViewerLeft")]
    public static partial void ViewerLeft(ILogger logger, Guid connectionId, int viewers);

    [LoggerMessage(1105, LogLevel.Warning, "Live view of connection {ConnectionId} failed inside the relay.", EventName = "LiveSessionFault")]
    public static partial void SessionFault(ILogger logger, Guid connectionId, Exception exception);

    [LoggerMessage(1106, LogLevel.Information, "Closed {Count} live viewers of connection {ConnectionId}.", EventName = "LiveViewersTerminated")]
    public static partial void Terminated(ILogger logger, int count, Guid connectionId);
}
