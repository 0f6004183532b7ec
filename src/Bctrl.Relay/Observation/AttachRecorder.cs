using Bctrl.Relay.Options;
using Bctrl.Relay.Splice;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Observation;

/// <summary>
/// Records an attach's life: its sampler while it runs, <c>attach.opened</c> and <c>attach.closed</c> with the
/// recording metadata, saved by connection for <c>GET …/attaches</c>. Null-object when observation is off.
/// </summary>
internal sealed class AttachRecorder(IOptions<RelayOptions> options, RecordQueue queue, IAttachRecordStore attaches, TimeProvider time)
{
    private const int MaxUserAgentLength = 256;

    public bool Enabled => options.Value.Observation.Enabled;

    /// <summary>Starts recording an attach; returns its sampler, or null when observation is off.</summary>
    public async Task<(AttachObserver? Observer, AttachRecord? Record)> OpenAsync(HttpContext context, long attachId, Guid connectionId, string runtimeId)
    {
        if (!Enabled)
        {
            return (null, null);
        }

        var userAgent = context.Request.Headers.UserAgent.ToString();
        var record = new AttachRecord
        {
            AttachId = attachId,
            ConnectionId = connectionId,
            RuntimeId = runtimeId,
            OpenedAt = time.GetUtcNow(),
            ClientAddress = context.Connection.RemoteIpAddress?.ToString(),
            UserAgent = userAgent.Length == 0 ? null : userAgent[..Math.Min(userAgent.Length, MaxUserAgentLength)],
        };
        await SaveAsync(record);
        queue.TryWrite(Wrap(RecordTypes.AttachOpened, record));
        return (new AttachObserver(runtimeId, connectionId, attachId, options.Value.Observation.ToSettings(), queue, time), record);
    }

    public async Task CloseAsync(AttachRecord? opened, AttachObserver? observer, AttachSummary summary)
    {
        if (opened is null)
        {
            return;
        }

        var record = opened with
        {
            ClosedAt = time.GetUtcNow(),
            Reason = ReasonNames.Of(summary.Reason),
            Detail = summary.Detail.Length == 0 ? null : summary.Detail,
            ClosedBy = ClosedBy(summary.Reason),
            ClientCloseCode = summary.ClientCloseCode,
            RuntimeCloseCode = summary.RuntimeCloseCode,
            RelayCloseToClient = summary.SentToClient.Code,
            RelayCloseToRuntime = summary.SentToRuntime.Code,
            BytesFromClient = summary.BytesFromClient,
            BytesFromRuntime = summary.BytesFromRuntime,
            FramesFromClient = summary.FramesFromClient,
            FramesFromRuntime = summary.FramesFromRuntime,
            MessagesFromClient = summary.MessagesFromClient,
            MessagesFromRuntime = summary.MessagesFromRuntime,
            CommandsByDomain = observer?.CommandsByDomain(),
        };
        await SaveAsync(record);
        queue.TryWrite(Wrap(RecordTypes.AttachClosed, record));
    }

    private static string ClosedBy(AttachEndReason reason) => reason switch
    {
        AttachEndReason.ClientClosed or AttachEndReason.ClientGone or AttachEndReason.ClientProtocolError
            or AttachEndReason.ClientMessageTooBig => "client",
        AttachEndReason.RuntimeClosed or AttachEndReason.RuntimeGone or AttachEndReason.RuntimeProtocolError
            or AttachEndReason.RuntimeMessageTooBig => "runtime",
        _ => "relay",
    };

    private ObservationRecord Wrap(string type, AttachRecord record) => new()
    {
        Type = type,
        Time = time.GetUtcNow(),
        RuntimeId = record.RuntimeId,
        ConnectionId = record.ConnectionId,
        AttachId = record.AttachId,
        Attach = record,
    };

    /// <summary>Metadata is saved on the side: a store that fails loses the record, never the attach.</summary>
    private async Task SaveAsync(AttachRecord record)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await attaches.SaveAsync(record, timeout.Token);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            queue.CountDropped(1);
        }
    }
}
