using System.Buffers;
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
    private const int MaxStreamsTracked = 64;

    // Strings from the runtime kept beyond the message (a record's session and name, a stream's handle) are bounded.
    private const int MaxNameLength = 255;
    private const int MaxIdLength = 128;
    private static readonly TimeSpan SaveTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan WarnEvery = TimeSpan.FromSeconds(10);

    private readonly DownloadFiles _files = new(options.Value.Artifacts.DownloadDirectories, options.Value.Artifacts.MaxBytes);

    // A download's suggested name from its downloadWillBegin, by attach and guid, until its progress says it ended.
    private readonly Dictionary<(string RuntimeId, string Guid), string?> _downloads = [];
    private readonly HashSet<(string RuntimeId, string Guid)> _ended = [];

    // PDFs handed over as streams, by attach and stream handle, until their last read (docs/artifacts.md).
    private readonly Dictionary<(long Attach, string Handle), StreamedPdf> _streams = [];
    private readonly int _maxBytes = options.Value.Artifacts.MaxBytes;
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
                    catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                    {
                        // Whatever a runtime's message or file does to the pump loses that artifact, never the pump (a
                        // background service that throws stops the host).
                        queue.CountLost(ArtifactLoss.Unreadable);
                        ArtifactLog.PumpFault(logger, message.Kind, exception);
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
        // Chromium writes an event's sessionId after its params, past the sampler's prefix: the whole message has it.
        var origin = new ArtifactOrigin(message, message.SessionId ?? ArtifactContent.Bounded(ArtifactContent.ReadSessionId(message.Message), MaxIdLength));
        var (content, name) = message.Kind switch
        {
            ArtifactKind.Download => await DownloadAsync(message, stoppingToken),
            ArtifactKind.Pdf => Pdf(message, origin),
            ArtifactKind.PdfChunk => PdfChunk(message, ref origin),
            _ => (ArtifactContent.ReadData(message.Message, inResult: message.Kind != ArtifactKind.ScreencastFrame) is { Length: > 0 } data
                ? data : Lost(ArtifactLoss.Unreadable), null),
        };
        if (content is not { } bytes)
        {
            return;
        }

        await StoreAsync(origin, bytes, name, stoppingToken);
    }

    private async Task StoreAsync(ArtifactOrigin origin, ReadOnlyMemory<byte> content, string? name, CancellationToken stoppingToken)
    {
        var kind = ArtifactKinds.Of(origin.Kind);
        var record = new ArtifactRecord
        {
            Id = Guid.CreateVersion7(origin.CapturedAt).ToString("N"),
            RuntimeId = origin.RuntimeId,
            ConnectionId = origin.ConnectionId,
            AttachId = origin.AttachId,
            Kind = kind,
            Method = origin.Method,
            CommandId = origin.CommandId,
            SessionId = origin.SessionId,
            ContentType = origin.Kind == ArtifactKind.Download ? "application/octet-stream" : ArtifactContent.ContentTypeOf(content.Span),
            Size = content.Length,
            CreatedAt = origin.CapturedAt,
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
    /// A <c>Page.printToPDF</c> result: its data, or, when the PDF comes as a stream (<c>{"data":"","stream":"1"}</c>),
    /// nothing yet: the stream's reads assemble it (<see cref="PdfChunk"/>), and the PDF keeps this result's origin.
    /// </summary>
    private (ReadOnlyMemory<byte>?, string?) Pdf(CapturedMessage message, ArtifactOrigin origin)
    {
        if (ArtifactContent.ReadData(message.Message, inResult: true) is { Length: > 0 } data)
        {
            return (data, null);
        }

        // The sampler read the stream's handle from the result already (PdfStreams.NoteResult).
        if (ArtifactContent.Bounded(message.StreamHandle, MaxIdLength) is not { } handle)
        {
            return (Lost(ArtifactLoss.Unreadable), null);
        }

        if (_streams.Count >= MaxStreamsTracked)
        {
            _streams.Clear(); // streams their clients never read to the end must not grow this
        }

        _streams[(message.AttachId, handle)] = new StreamedPdf(origin);
        return (null, null);
    }

    /// <summary>A read of a PDF's stream: its chunk is added; at <c>eof</c> the whole PDF is stored with its result's origin.</summary>
    private (ReadOnlyMemory<byte>?, string?) PdfChunk(CapturedMessage message, ref ArtifactOrigin origin)
    {
        var key = (message.AttachId, message.StreamHandle ?? string.Empty);
        if (!_streams.TryGetValue(key, out var pdf))
        {
            return (null, null); // its result was lost or is not ours
        }

        if (message.Sequence != pdf.NextSequence || ArtifactContent.ReadChunk(message.Message) is not { } chunk)
        {
            // A read in between was not captured (too large, no room, unmatched), or this one is unreadable: the PDF
            // would have a hole, so none is kept.
            _streams.Remove(key);
            return (Lost(ArtifactLoss.Unreadable), null);
        }

        if (pdf.Content.WrittenCount + (long)chunk.Data.Length > _maxBytes)
        {
            _streams.Remove(key);
            return (Lost(ArtifactLoss.TooLarge), null);
        }

        pdf.NextSequence++;
        pdf.Content.Write<byte>(chunk.Data);
        if (!chunk.Eof)
        {
            return (null, null);
        }

        _streams.Remove(key);
        origin = pdf.Origin;
        return (pdf.Content.WrittenMemory.ToArray(), null); // exact: the writer's spare room is not kept
    }

    private ReadOnlyMemory<byte>? Lost(string reason)
    {
        queue.CountLost(reason);
        return null;
    }

    private async Task<(ReadOnlyMemory<byte>?, string?)> DownloadAsync(CapturedMessage message, CancellationToken stoppingToken)
    {
        if (ArtifactContent.ReadDownload(message.Message) is not { } download || !Guid.TryParse(download.Guid, out _))
        {
            return (Lost(ArtifactLoss.Unreadable), null); // Chromium's guids are GUIDs: anything else is kept nowhere
        }

        // Keyed by runtime and guid: every attach of the runtime that keeps artifacts hears of a browser's download,
        // and it is one download.
        var key = (message.RuntimeId, download.Guid);
        if (message.Method.EndsWith(".downloadWillBegin", StringComparison.Ordinal))
        {
            if (_downloads.Count >= MaxDownloadsTracked)
            {
                _downloads.Clear(); // a runtime that begins downloads and never ends them must not grow this
            }

            _downloads[key] = ArtifactContent.Bounded(download.SuggestedFilename, MaxNameLength);
            return (null, null);
        }

        if (download.State is not ("completed" or "canceled") || _ended.Contains(key))
        {
            return (null, null);
        }

        if (download.State == "canceled")
        {
            End(key);
            return (null, null);
        }

        // Chromium tells a client that enabled both the Page and the Browser domain of each download twice; only the
        // Browser form says where the file is (filePath). A Page form whose file is not found by its guid waits for it.
        var (file, loss) = await ReadWithinAsync(download, stoppingToken);
        if (file is null && download.FilePath is null && message.Method.StartsWith("Page.", StringComparison.Ordinal))
        {
            return (null, null);
        }

        _downloads.TryGetValue(key, out var name);
        End(key);
        return file is null ? (Lost(loss!), null) : (file, name);
    }

    /// <summary>Reads a finished download's file; a read that takes over 10 s (a hung network volume) loses it rather than the pump.</summary>
    private async Task<(byte[]? Content, string? Loss)> ReadWithinAsync(DownloadEvent download, CancellationToken stoppingToken)
    {
        try
        {
            return await _files.ReadAsync(download, stoppingToken).WaitAsync(SaveTimeout, stoppingToken);
        }
        catch (TimeoutException)
        {
            return (null, ArtifactLoss.DownloadUnreachable);
        }
    }

    private void End((string RuntimeId, string Guid) key)
    {
        _downloads.Remove(key);
        if (_ended.Count >= MaxDownloadsTracked)
        {
            _ended.Clear();
        }

        _ended.Add(key);
    }

    /// <summary>Where an artifact came from: the captured message's origin, with its session read from the whole message.</summary>
    private sealed record ArtifactOrigin(
        ArtifactKind Kind, string Method, string RuntimeId, Guid ConnectionId, long AttachId, long? CommandId, string? SessionId, DateTimeOffset CapturedAt)
    {
        public ArtifactOrigin(CapturedMessage message, string? sessionId)
            : this(message.Kind, message.Method, message.RuntimeId, message.ConnectionId, message.AttachId, message.CommandId, sessionId, message.CapturedAt)
        {
        }
    }

    /// <summary>A PDF arriving by <c>IO.read</c> chunks, with the origin of the <c>Page.printToPDF</c> result that named its stream.</summary>
    private sealed record StreamedPdf(ArtifactOrigin Origin)
    {
        public ArrayBufferWriter<byte> Content { get; } = new();

        public int NextSequence { get; set; }
    }
}
