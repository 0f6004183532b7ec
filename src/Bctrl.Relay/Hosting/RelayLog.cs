using Bctrl.Relay.Attach;
using Bctrl.Relay.Splice;

namespace Bctrl.Relay;

/// <summary>
/// Every log line of the relay, with fixed event ids (Kestrel's <c>SocketsLog</c>). Nothing per frame; no token, key or
/// runtime address in any line.
/// </summary>
internal static partial class RelayLog
{
    // One line per attach at Information (when it closes, with everything it did): a line costs the relay more CPU
    // than the rest of an attach's bookkeeping, and an attach storm must not become a log storm.
    [LoggerMessage(1, LogLevel.Debug, "Attach {AttachId} opened on connection {ConnectionId} (runtime {RuntimeId}).", EventName = "AttachOpened")]
    public static partial void AttachOpened(ILogger logger, long attachId, Guid connectionId, string runtimeId);

    [LoggerMessage(2, LogLevel.Information,
        "Attach {AttachId} closed: {Reason} {Detail}; client close {ClientCode}, runtime close {RuntimeCode}; sent client {SentClient}, sent runtime {SentRuntime}; {BytesFromClient} B from client, {BytesFromRuntime} B from runtime; spliced through {Transport}.",
        EventName = "AttachClosed")]
    public static partial void AttachClosed(
        ILogger logger, long attachId, AttachEndReason reason, string detail, ushort clientCode, ushort runtimeCode,
        ushort sentClient, ushort sentRuntime, long bytesFromClient, long bytesFromRuntime, string transport);

    // At Debug: at Information a bad-token flood was 88 bytes of log per refusal (issue 8, finding 8). Refusals are
    // counted in metrics, and summarised at Information by RefusalsSummarised.
    [LoggerMessage(3, LogLevel.Debug, "{Request} refused with {Status} {Code}.", EventName = "Refused")]
    public static partial void Refused(ILogger logger, RefusedRequest request, int status, string code);

    [LoggerMessage(4, LogLevel.Information, "Terminated {Count} live attaches of connection {ConnectionId}.", EventName = "Terminated")]
    public static partial void Terminated(ILogger logger, int count, Guid connectionId);

    [LoggerMessage(5, LogLevel.Debug, "Swept {Count} expired records.", EventName = "Swept")]
    public static partial void Swept(ILogger logger, int count);

    [LoggerMessage(6, LogLevel.Error, "Attach {AttachId} failed inside the relay.", EventName = "AttachFault")]
    public static partial void AttachFault(ILogger logger, long attachId, Exception exception);

    [LoggerMessage(7, LogLevel.Information, "Draining: closing {Count} live attaches.", EventName = "Draining")]
    public static partial void Draining(ILogger logger, int count);

    [LoggerMessage(8, LogLevel.Information, "Started Chromium (pid {ProcessId}) as runtime '{RuntimeId}'.", EventName = "DevRuntimeStarted")]
    public static partial void DevRuntimeStarted(ILogger logger, int processId, string runtimeId);

    [LoggerMessage(9, LogLevel.Warning, "Could not start Chromium as the development runtime: {Problem}", EventName = "DevRuntimeFailed")]
    public static partial void DevRuntimeFailed(ILogger logger, string problem);


    // The exception's message is left out on purpose: a framework message may quote the request line, which holds a token.
    [LoggerMessage(12, LogLevel.Error, "A request failed inside the relay with {ExceptionType}: {StackTrace}", EventName = "RequestFault")]
    public static partial void RequestFault(ILogger logger, string exceptionType, string stackTrace);

    [LoggerMessage(13, LogLevel.Warning, "The event store refused a batch of {Count} records ({ExceptionType}); they are counted as dropped.", EventName = "EventStoreFailed")]
    public static partial void EventStoreFailed(ILogger logger, int count, string exceptionType);

    [LoggerMessage(10, LogLevel.Warning, "Discovery request to the runtime failed with {Code}.", EventName = "DiscoveryFailed")]
    public static partial void DiscoveryFailed(ILogger logger, string code);

    // Issue 8, finding 5: the runtime's answer is untrusted. The problem is the relay's own words (a status, a limit):
    // nothing from the answer, so no address a redirect named.
    [LoggerMessage(40, LogLevel.Warning, "The runtime's /{Document} was refused ({Problem}); {Outcome}.", EventName = "DiscoveryRefused")]
    public static partial void DiscoveryRefused(ILogger logger, string document, string problem, string outcome);

    [LoggerMessage(41, LogLevel.Warning,
        "Relay:Limits:MaxConnections is {Configured}, more than the file limit of {FileLimit} allows: holding {Limit} connections, so that the process keeps descriptors of its own. Raise the file limit (ulimit -n) to hold more.",
        EventName = "ConnectionLimitLowered")]
    public static partial void ConnectionLimitLowered(ILogger logger, int configured, long fileLimit, int limit);

    [LoggerMessage(20, LogLevel.Information, "Refused {Count} requests in the last {Seconds} s: {Codes}.", EventName = "RefusalsSummarised")]
    public static partial void RefusalsSummarised(ILogger logger, long count, double seconds, string codes);
}
