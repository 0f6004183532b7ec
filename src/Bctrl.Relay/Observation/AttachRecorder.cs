using Bctrl.Relay.Artifacts;
using Bctrl.Relay.Leases;
using Bctrl.Relay.Options;
using Bctrl.Relay.Splice;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Observation;

/// <summary>
/// Records an attach's life: its sampler while it runs, <c>attach.opened</c> and <c>attach.closed</c> with the
/// recording metadata, saved by connection for <c>GET …/attaches</c>. Null-object when observation is off.
/// </summary>
internal sealed class AttachRecorder(
    IOptions<RelayOptions> options, RecordQueue queue, ArtifactQueue artifacts, IAttachRecordStore attaches, TimeProvider time)
{
    private const int MaxUserAgentLength = 256;

    public bool Enabled => options.Value.Observation.Enabled;

    /// <summary>
    /// Starts recording an attach; returns its sampler (null when observation is off) and the opened record. The record
    /// is saved in the background: a slow or paused store must never hold up an attach. A lease that keeps artifacts
    /// gets its sampler a capture (docs/artifacts.md); the sampler is what finds them.
    /// </summary>
    public (AttachObserver? Observer, OpenedAttach? Opened) Open(
        HttpContext context, long attachId, Guid connectionId, string runtimeId, string? scopeTarget = null, bool keepArtifacts = false)
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
            Scope = scopeTarget is null ? null : new LeaseScope(scopeTarget),
            OpenedAt = time.GetUtcNow(),
            ClientAddress = context.Connection.RemoteIpAddress?.ToString(),
            UserAgent = userAgent.Length == 0 ? null : userAgent[..Math.Min(userAgent.Length, MaxUserAgentLength)],
        };
        var saved = SaveAsync(record, after: Task.CompletedTask);
        queue.TryWrite(Wrap(RecordTypes.AttachOpened, record));
        var capture = keepArtifacts ? new ArtifactCapture(artifacts, options.Value.Artifacts.ToSettings()) : null;
        return (new AttachObserver(runtimeId, connectionId, attachId, options.Value.Observation.ToSettings(), queue, time, capture), new OpenedAttach(record, saved));
    }

    /// <summary>Records how the attach ended; the metadata is saved in the background, after the opened record.</summary>
    public void Close(OpenedAttach? opened, AttachObserver? observer, AttachSummary summary)
    {
        if (opened is null)
        {
            return;
        }

        var record = opened.Record with
        {
            ClosedAt = time.GetUtcNow(),
            Reason = ReasonNames.Of(summary.Reason),
            Detail = summary.Detail.Length == 0 ? null : summary.Detail,
            ClosedBy = ClosedBy(summary.Reason),
            ClientCloseCode = summary.ClientCloseCode,
            RuntimeCloseCode = summary.RuntimeCloseCode,
            RelayCloseToClient = summary.SentToClient.Code,
            RelayCloseToRuntime = summary.SentToRuntime.Code,
            FromClient = summary.FromClient,
            FromRuntime = summary.FromRuntime,
            CommandsByDomain = observer?.CommandsByDomain(),
        };
        _ = SaveAsync(record, after: opened.Saved);
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

    /// <summary>
    /// Metadata is saved on the side, after <paramref name="after"/> (so a closed record never lands before its opened
    /// one): a store that fails loses the record, never the attach. Never throws.
    /// </summary>
    private async Task SaveAsync(AttachRecord record, Task after)
    {
        try
        {
            await after.ConfigureAwait(false);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await attaches.SaveAsync(record, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            queue.CountDropped(1);
        }
    }
}

/// <summary>An attach's opened record and the task saving it.</summary>
internal sealed record OpenedAttach(AttachRecord Record, Task Saved);
