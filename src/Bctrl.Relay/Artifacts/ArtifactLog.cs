namespace Bctrl.Relay.Artifacts;

/// <summary>The artifact pump's log lines (docs/artifacts.md), fixed event ids 1200-1299. Never a token, path or URL.</summary>
internal static partial class ArtifactLog
{
    [LoggerMessage(1200, LogLevel.Warning, "The artifact store failed ({Error}); artifacts are being lost (bctrl_relay_artifacts_lost_total{{reason=\"store_failed\"}}).", EventName = "ArtifactStoreFailed")]
    public static partial void StoreFailed(ILogger logger, string error);

    [LoggerMessage(1201, LogLevel.Debug, "Artifact {ArtifactId} ({Kind}, {Size} bytes) stored for connection {ConnectionId}.", EventName = "ArtifactStored")]
    public static partial void Stored(ILogger logger, string artifactId, string kind, long size, Guid connectionId);

    [LoggerMessage(1202, LogLevel.Warning, "An artifact ({Kind}) could not be handled and is lost (bctrl_relay_artifacts_lost_total{{reason=\"unreadable\"}}).", EventName = "ArtifactPumpFault")]
    public static partial void PumpFault(ILogger logger, ArtifactKind kind, Exception exception);
}
