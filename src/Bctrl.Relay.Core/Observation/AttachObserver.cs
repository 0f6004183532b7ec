using System.Text;
using Bctrl.Relay.Artifacts;

namespace Bctrl.Relay.Observation;

/// <summary>
/// One attach's sampler. The splice hands it the unmasked prefix of each text message; it reads the top level with
/// <see cref="CdpPeek"/>, records every command and result and a share of events, matches results to commands to time
/// round trips, and counts commands by domain. It runs on the pump's thread but never waits: records go to a sink that
/// drops when full.
/// </summary>
internal sealed class AttachObserver
{
    private readonly ObservationSettings _settings;
    private readonly IRecordSink _sink;
    private readonly TimeProvider _time;
    // CDP ids are per session (PuppeteerSharp numbers each session from 1): commands are keyed by session and id.
    private readonly Dictionary<(string? Session, long Id), PendingCommand> _pending = [];
    private readonly Dictionary<string, long> _commandsByDomain = new(StringComparer.Ordinal);

    // Both pumps reach the pending table: the client pump adds, the runtime pump removes. One lock per attach.
    private readonly Lock _lock = new();
    private readonly Utf8StringCache _names = new();
    private double _eventCredit;

    public AttachObserver(
        string runtimeId, Guid connectionId, long attachId, ObservationSettings settings, IRecordSink sink, TimeProvider time, ArtifactCapture? capture = null)
    {
        Capture = capture;
        RuntimeId = runtimeId;
        ConnectionId = connectionId;
        AttachId = attachId;
        _settings = settings;
        _sink = sink;
        _time = time;
    }

    public string RuntimeId { get; }

    public Guid ConnectionId { get; }

    public long AttachId { get; }

    public int PrefixBytes => _settings.PrefixBytes;

    /// <summary>The attach's artifact capture (docs/artifacts.md); null unless its lease records artifacts.</summary>
    public ArtifactCapture? Capture { get; }

    public IReadOnlyDictionary<string, long> CommandsByDomain()
    {
        lock (_lock)
        {
            return new Dictionary<string, long>(_commandsByDomain, StringComparer.Ordinal);
        }
    }

    /// <summary>A text message from the client: a CDP command.</summary>
    public void OnClientMessage(ReadOnlySpan<byte> prefix, long size, bool isWholeMessage)
    {
        if (!CdpPeek.TryRead(prefix, isWholeMessage, out var peek) || peek.Method.IsEmpty)
        {
            return;
        }

        var domain = CdpDomains.Of(peek.Method);
        var method = Name(peek.Method)!;
        var session = Name(peek.SessionId);

        string? parameters = null;
        if (_settings.StoreParams && peek.Complete && peek.ParamsEnd > peek.ParamsStart)
        {
            parameters = ParamsRedactor.Redact(method, prefix[peek.ParamsStart..peek.ParamsEnd]);
        }

        if (Capture is not null && peek.Complete && method is "IO.read" or "IO.close")
        {
            Capture.Streams.NoteCommand(method, session, peek.HasId ? peek.Id : null, prefix); // docs/artifacts.md: streamed PDFs
        }

        lock (_lock)
        {
            _commandsByDomain[domain] = _commandsByDomain.GetValueOrDefault(domain) + 1;
            if (peek.HasId && _pending.Count < _settings.MaxPendingCommands)
            {
                _pending[(session, peek.Id)] = new PendingCommand(method, domain, _time.GetTimestamp());
            }
        }

        _sink.TryWrite(new ObservationRecord
        {
            Type = RecordTypes.CdpCommand,
            Time = _time.GetUtcNow(),
            RuntimeId = RuntimeId,
            ConnectionId = ConnectionId,
            AttachId = AttachId,
            Method = method,
            Id = peek.HasId ? peek.Id : null,
            SessionId = session,
            Size = size,
            Params = parameters,
        });
    }

    /// <summary>
    /// A text message from the runtime: a result (it has an id) or an event (it has a method). <paramref name="size"/> is
    /// its first frame's payload length, <paramref name="finalFrame"/> whether that frame ends it.
    /// </summary>
    public void OnRuntimeMessage(ReadOnlySpan<byte> prefix, long size, bool isWholeMessage, bool finalFrame = true)
    {
        if (!CdpPeek.TryRead(prefix, isWholeMessage, out var peek))
        {
            return;
        }

        if (peek.HasId)
        {
            string? session;
            PendingCommand command;
            bool matched;
            lock (_lock)
            {
                session = peek.SessionId.IsEmpty ? null : _names.Get(peek.SessionId);
                matched = _pending.Remove((session, peek.Id), out command)
                    || (session is null && !peek.Complete && TryRemoveOnly(peek.Id, out command, out session));
            }

            TimeSpan? latency = matched ? _time.GetElapsedTime(command.StartedAt) : null;
            if (matched)
            {
                _sink.CommandCompleted(command.Domain, latency!.Value);
                if (Capture is not null && !peek.HasError)
                {
                    CaptureResult(command.Method, peek.Id, session, prefix, size, finalFrame, peek.Complete);
                }
            }

            _sink.TryWrite(new ObservationRecord
            {
                Type = RecordTypes.CdpResult,
                Time = _time.GetUtcNow(),
                RuntimeId = RuntimeId,
                ConnectionId = ConnectionId,
                AttachId = AttachId,
                Method = matched ? command.Method : null,
                Id = peek.Id,
                SessionId = session,
                Size = size,
                LatencyMs = latency?.TotalMilliseconds,
                Error = peek.HasError,
            });
            return;
        }

        if (peek.Method.IsEmpty)
        {
            return;
        }

        if (Capture is not null && ArtifactEventKind(peek.Method) is { } eventKind)
        {
            BeginCapture(eventKind, Name(peek.Method)!, commandId: null, Name(peek.SessionId), prefix, size, finalFrame);
        }

        if (!SampleEvent())
        {
            return;
        }

        _sink.TryWrite(new ObservationRecord
        {
            Type = RecordTypes.CdpEvent,
            Time = _time.GetUtcNow(),
            RuntimeId = RuntimeId,
            ConnectionId = ConnectionId,
            AttachId = AttachId,
            Method = Name(peek.Method),
            SessionId = Name(peek.SessionId),
            Size = size,
        });
    }

    /// <summary>
    /// Starts capturing a result that holds an artifact: a screenshot's, a PDF's (or its stream's handle, noted for the
    /// reads that follow), or a read of a PDF's stream.
    /// </summary>
    private void CaptureResult(string method, long id, string? session, ReadOnlySpan<byte> prefix, long size, bool finalFrame, bool complete)
    {
        string? handle = null;
        var sequence = 0;
        var kind = method switch
        {
            "Page.captureScreenshot" => ArtifactKind.Screenshot,
            "Page.printToPDF" => ArtifactKind.Pdf,
            "IO.read" when Capture!.Streams.TakeRead(session, id, out handle, out sequence) => ArtifactKind.PdfChunk,
            _ => (ArtifactKind?)null,
        };
        if (kind is null)
        {
            return;
        }

        if (kind == ArtifactKind.Pdf && complete)
        {
            handle = Capture!.Streams.NoteResult(prefix); // a streamed PDF's answer is small: whole in the prefix
        }

        BeginCapture(kind.Value, method, id, session, prefix, size, finalFrame, handle, sequence);
    }

    /// <summary>Events that carry an artifact; a screencast frame only when one is due (one per interval).</summary>
    private ArtifactKind? ArtifactEventKind(ReadOnlySpan<byte> method)
    {
        if (method.SequenceEqual("Page.screencastFrame"u8))
        {
            return Capture!.ScreencastFrameDue(_time.GetTimestamp(), _time.TimestampFrequency) ? ArtifactKind.ScreencastFrame : null;
        }

        return method.SequenceEqual("Browser.downloadWillBegin"u8) || method.SequenceEqual("Browser.downloadProgress"u8)
            || method.SequenceEqual("Page.downloadWillBegin"u8) || method.SequenceEqual("Page.downloadProgress"u8)
            ? ArtifactKind.Download
            : null;
    }

    private void BeginCapture(
        ArtifactKind kind, string method, long? commandId, string? session, ReadOnlySpan<byte> prefix, long size, bool finalFrame, string? streamHandle = null, int sequence = 0)
        => Capture!.Begin(
            new CapturedMessage
            {
                Kind = kind,
                Method = method,
                RuntimeId = RuntimeId,
                ConnectionId = ConnectionId,
                AttachId = AttachId,
                CommandId = commandId,
                SessionId = session,
                StreamHandle = streamHandle,
                Sequence = sequence,
                CapturedAt = _time.GetUtcNow(),
            },
            prefix,
            size,
            finalFrame);

    /// <summary>
    /// Chromium writes a result's <c>sessionId</c> last, so behind a large result it lies past the prefix: match by id
    /// alone then, but only when exactly one pending command has that id. Called under the lock.
    /// </summary>
    private bool TryRemoveOnly(long id, out PendingCommand command, out string? session)
    {
        command = default;
        session = null;
        var found = 0;
        foreach (var key in _pending.Keys)
        {
            if (key.Id == id)
            {
                found++;
                session = key.Session;
            }
        }

        if (found != 1)
        {
            session = null;
            return false;
        }

        return _pending.Remove((session, id), out command);
    }

    /// <summary>A method or session name as a string, from the attach's cache; null for an empty one.</summary>
    private string? Name(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return null;
        }

        lock (_lock)
        {
            return _names.Get(utf8);
        }
    }

    /// <summary>Deterministic sampling: a rate of 0.25 records every fourth event, with no random numbers.</summary>
    private bool SampleEvent()
    {
        _eventCredit += _settings.EventSampleRate;
        if (_eventCredit < 1)
        {
            return false;
        }

        _eventCredit -= 1;
        return true;
    }

    private readonly record struct PendingCommand(string Method, string Domain, long StartedAt);
}
