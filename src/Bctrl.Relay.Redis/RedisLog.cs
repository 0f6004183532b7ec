using Microsoft.Extensions.Logging;

namespace Bctrl.Relay.Redis;

/// <summary>Log lines of the Redis stores, event ids 100–119. No token, key or runtime address in any line.</summary>
internal static partial class RedisLog
{
    [LoggerMessage(100, LogLevel.Information,
        "Revocation view read from Redis ({Reason}): epoch {Epoch}, version {Version}, {Revocations} revocations, {Runtimes} runtimes.",
        EventName = "FleetSynced")]
    public static partial void Synced(ILogger logger, string reason, string epoch, long version, int revocations, int runtimes);

    [LoggerMessage(101, LogLevel.Warning, "Could not read the revocation view from Redis ({ExceptionType}: {Problem}); retrying.", EventName = "FleetSyncFailed")]
    public static partial void SyncFailed(ILogger logger, string exceptionType, string problem);

    [LoggerMessage(109, LogLevel.Debug, "Still no revocation view from Redis ({ExceptionType}); retrying.", EventName = "FleetSyncStillFailing")]
    public static partial void SyncStillFailing(ILogger logger, string exceptionType);

    [LoggerMessage(102, LogLevel.Warning,
        "Redis lost the fleet state of epoch {LostEpoch}; writing back this node's {Revocations} revocations and {Runtimes} runtimes.",
        EventName = "FleetReseeding")]
    public static partial void Reseeding(ILogger logger, string lostEpoch, int revocations, int runtimes);

    [LoggerMessage(103, LogLevel.Debug, "Ping through Redis failed ({ExceptionType}).", EventName = "FleetPingFailed")]
    public static partial void PingFailed(ILogger logger, string exceptionType);

    [LoggerMessage(104, LogLevel.Debug, "Attach counts not written to Redis ({ExceptionType}); they stay pending.", EventName = "AttachCountsPending")]
    public static partial void CountsNotWritten(ILogger logger, string exceptionType);

    [LoggerMessage(105, LogLevel.Warning, "Ignored a message on the fleet channel that this node cannot read.", EventName = "FleetBadMessage")]
    public static partial void BadMessage(ILogger logger);

    [LoggerMessage(106, LogLevel.Error, "Terminating the attaches of connection {ConnectionId} failed.", EventName = "FleetTerminateFailed")]
    public static partial void TerminateFailed(ILogger logger, Guid connectionId, Exception exception);

    [LoggerMessage(107, LogLevel.Warning, "Redis connection ({ConnectionType}) failed: {FailureType}.", EventName = "RedisConnectionFailed")]
    public static partial void ConnectionFailed(ILogger logger, string connectionType, string failureType);

    [LoggerMessage(108, LogLevel.Information, "Redis connection ({ConnectionType}) restored.", EventName = "RedisConnectionRestored")]
    public static partial void ConnectionRestored(ILogger logger, string connectionType);
}
