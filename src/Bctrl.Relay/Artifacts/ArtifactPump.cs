using Bctrl.Relay.Observation;
using Bctrl.Relay.Options;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Artifacts;

/// <summary>
/// Turns captured messages into stored artifacts on its own task, off every splice (docs/artifacts.md): decodes the
/// base64 of screenshots, PDFs and screencast frames, reads a finished download's file, saves each to the store and
/// records <c>artifact.stored</c> on the runtime's event stream. Whatever fails is counted lost; nothing here reaches
/// back into an attach.
/// </summary>
internal sealed class ArtifactPump(
    ArtifactQueue queue, IArtifactStore store, RecordQueue records, IOptions<RelayOptions> options, TimeProvider time, ILogger<ArtifactPump> logger)
    : BackgroundService
{
    private const int MaxDownloadsTracked = 4096;
    private static readonly TimeSpan SaveTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan WarnEvery = TimeSpan.FromSeconds(10);

    private readonly DownloadFiles _files = new(options.Value.Artifacts.DownloadDirectories, options.Value.Artifacts.MaxBytes);

    // A download's suggested name from its downloadWillBegin, by attach and guid, until its progress says it ended.
    private readonly Dictionary<(long Attach, string Guid), string?> _downloads = [];
    private DateTime _lastWarning = DateTime.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await queue.WaitToReadAsync(stoppingToken))
            {
                while (queue.TryRead(out var message))
                {
                    try
                    {
                        await HandleAsync(message, stoppingToken);
                    }
                    finally
                    {
                        message.Release();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: what is still queued goes with the process.
        }
    }

    private async Task HandleAsync(CapturedMessage message, CancellationToken stoppingToken)
    {
        ReadOnlyMemory<byte> content;
        string? name = null;
        if (message.Kind == ArtifactKind.Download)
        {
            var (download, finishedName) = Download(message);
            if (download is null)
            {
                return;
            }

            var (file, loss) = await _files.ReadAsync(download, finishedName, stoppingToken);
            if (file is null)
            {
                queue.CountLost(loss!);
                return;
            }

            content = file;
            name = finishedName;
        }
        else if (ArtifactContent.ReadData(message.Message, inResult: message.Kind != ArtifactKind.ScreencastFrame) is { } data)
        {
            content = data;
        }
        else
        {
            queue.CountLost(ArtifactLoss.Unreadable);
            return;
        }

        var kind = ArtifactKinds.Of(message.Kind);
        var record = new ArtifactRecord
        {
            Id = Guid.CreateVersion7(message.CapturedAt).ToString("N"),
            RuntimeId = message.RuntimeId,
            ConnectionId = message.ConnectionId,
            AttachId = message.AttachId,
            Kind = kind,
            Method = message.Method,
            CommandId = message.CommandId,
            SessionId = message.SessionId,
            ContentType = message.Kind == ArtifactKind.Download ? "application/octet-stream" : ArtifactContent.ContentTypeOf(content.Span),
            Size = content.Length,
            CreatedAt = message.CapturedAt,
            Name = name,
        };

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(SaveTimeout);
            await store.SaveAsync(record, content, timeout.Token);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            queue.CountLost(ArtifactLoss.StoreFailed);
            if (DateTime.UtcNow - _lastWarning >= WarnEvery)
            {
                _lastWarning = DateTime.UtcNow;
                ArtifactLog.StoreFailed(logger, exception.GetType().Name);
            }

            return;
        }

        queue.CountStored(kind);
        ArtifactLog.Stored(logger, record.Id, kind, record.Size, record.ConnectionId);
        records.TryWrite(new ObservationRecord
        {
            Type = RecordTypes.ArtifactStored,
            Time = time.GetUtcNow(),
            RuntimeId = record.RuntimeId,
            ConnectionId = record.ConnectionId,
            AttachId = record.AttachId,
            Method = record.Method,
            Id = record.CommandId,
            SessionId = record.SessionId,
            Size = record.Size,
            ArtifactId = record.Id,
        });
    }

    /// <summary>
    /// Notes a download's name when it begins; when its progress says it completed, returns the event and that name.
    /// Null for everything else (progress under way, canceled, unreadable).
    /// </summary>
    private (DownloadEvent? Finished, string? Name) Download(CapturedMessage message)
    {
        if (ArtifactContent.ReadDownload(message.Message) is not { } download)
        {
            queue.CountLost(ArtifactLoss.Unreadable);
            return (null, null);
        }

        var key = (message.AttachId, download.Guid);
        if (message.Method.EndsWith(".downloadWillBegin", StringComparison.Ordinal))
        {
            if (_downloads.Count >= MaxDownloadsTracked)
            {
                _downloads.Clear(); // a runtime that begins downloads and never ends them must not grow this
            }

            _downloads[key] = download.SuggestedFilename;
            return (null, null);
        }

        if (download.State is not ("completed" or "canceled"))
        {
            return (null, null);
        }

        _downloads.Remove(key, out var name);
        return download.State == "completed" ? (download, name) : (null, null);
    }
}
