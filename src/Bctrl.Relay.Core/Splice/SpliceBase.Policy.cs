using System.Buffers;
using System.Text;
using System.Text.Json;
using Bctrl.Relay.Frames;
using Bctrl.Relay.Policy;

namespace Bctrl.Relay.Splice;

/// <summary>
/// A lease's CDP method policy and command rate on the client leg (docs/policy.md, docs/quotas.md), for both splices:
/// the pipe splice runs <see cref="ScanClientUnderPolicy"/> over Kestrel's input, the loop splice over its loop's
/// buffer. Used only when the lease has one (<see cref="Guard"/>); an attach without runs its splice's own scan and
/// none of this.
/// </summary>
/// <remarks>
/// Each client text message is read by a <see cref="CdpCommandScanner"/> as it passes, unmasked in 256-byte pieces on
/// the stack. Until its method is known the message is copied aside (<see cref="_heldCommand"/>) and its bytes are not
/// sent; then
/// <list type="bullet">
/// <item>allowed: the bytes go on (in place when the message lies whole in the buffer, else the copy first) and the
/// rest of the message streams through as usual, still read; should the scanner refuse it later (a second
/// <c>method</c>, a broken structure), the attach ends with 1008 before the message's last byte is sent, so the runtime
/// never has a whole message to act on;</item>
/// <item>denied (or unreadable: fail closed): the message is swallowed to its end and the client is answered as CDP
/// answers, with its <c>id</c> and <c>sessionId</c>, at a frame boundary of the runtime's stream.</item>
/// </list>
/// Control frames inside a held or swallowed message still go to the runtime (a keep-alive pong is dropped as always);
/// a binary message, which no CDP client sends, ends the attach with 1008.
/// </remarks>
internal abstract partial class SpliceBase
{
    /// <summary>What <see cref="ScanClientUnderPolicy"/> stops on.</summary>
    private protected enum PolicyStop : byte
    {
        EndOfBuffer,

        /// <summary>Bytes from cutStart to cutEnd are not sent (held, swallowed, or a keep-alive pong); with <see cref="_releaseHeld"/> the held copy goes out first.</summary>
        DropFrame,

        Violation,

        /// <summary>A message broke the policy where it could not be answered: the bytes before cutStart go out, and the attach ends with 1008.</summary>
        PolicyBreach,
    }

    // A client message was cut inside a frame the runtime has begun to receive: it must get no close frame, which would
    // complete that frame with the close's bytes.
    private protected bool _runtimeFrameCut;

    /// <summary>Holds the attach's client leg to its lease's policy and command rate; called before the splice starts.</summary>
    public void Guard(MethodPolicy? policy, CommandBucket? rate)
    {
        _policy = policy;
        _rate = rate;
        _guarded = policy is not null || rate is not null;
    }

    /// <summary>The sampler's look at a client text message's first frame, whose payload starts at <paramref name="payloadStart"/>.</summary>
    private protected abstract void ObserveClientText(in ReadOnlySequence<byte> buffer, long payloadStart, in FrameHeader header);

    /// <summary>The end of a scanned buffer: positions start again with the next, inside a skipped payload or at a frame boundary.</summary>
    private protected void EndPolicyBuffer()
    {
        _skipFrom = _verdict is Verdict.Pending or Verdict.Denied && _fromClient.Tracker.PayloadRemaining > 0 ? 0 : -1;
        _heldInBuffer = false; // a held message's first bytes are in the copy only now
        _releasedFrom = -1;
    }

    /// <summary>The held copy of an allowed message, to send before the bytes from cutEnd on; empty afterwards.</summary>
    private protected ReadOnlyMemory<byte> TakeHeldCommand()
    {
        var held = _heldCommand.AsMemory(0, _heldLength);
        _heldLength = 0;
        _releaseHeld = false;
        return held;
    }

    /// <summary>A command whose method is not known within this many bytes is denied (fail closed).</summary>
    internal const int MaxHeldCommandBytes = 1 << 20;

    /// <summary>Answers waiting for the runtime's stream to reach a frame boundary; more ends the attach with 1008.</summary>
    private protected const int MaxQueuedAnswerBytes = 1 << 20;

    /// <summary>Bytes unmasked on the stack at a time; also the step at which a held message is judged.</summary>
    private const int PolicyPiece = 256;

    private protected MethodPolicy? _policy;

    // The lease's command rate on this node (docs/quotas.md), or null.
    private protected CommandBucket? _rate;

    // Whether this attach reads its client's commands at all: a policy or a command rate. Without, ScanClient runs.
    private protected bool _guarded;

    // Why the message being swallowed was refused: the policy, or the rate (false).
    private bool _deniedByPolicy;

    private protected Verdict _verdict;
    private CdpCommandScanner _scanner;

    // The current data frame's header: the tracker's own moves on to any control frame in between.
    private FrameHeader _dataHeader;

    // Where, in the buffer being scanned, client bytes stopped going to the runtime (held or swallowed); -1 while they go.
    private protected long _skipFrom = -1;

    // Where the last piece of the current message began: a late refusal cuts the message there.
    private long _lastPiece;

    private protected byte[]? _heldCommand;
    private protected int _heldLength;
    private protected bool _releaseHeld;

    // The held message began in the buffer being scanned and nothing of it was cut out since: all its bytes are still
    // in that buffer from _skipFrom on, so an allowed verdict lets them go from there, with no copy sent.
    private protected bool _heldInBuffer;

    // Where, in the buffer being scanned, a message let go in place began (-1: none, or no longer whole here): a
    // message that then fails to complete is answered and skipped whole rather than cut.
    private protected long _releasedFrom = -1;

    // Answers made by the client pump for the buffer it scans, moved to _answers under the client write gate.
    private protected ArrayBufferWriter<byte>? _newAnswers;


    private long _deniedCommands;

    /// <summary>A command judged whole (a <c>Target.closeTarget</c> under <c>noBrowserControl</c>) may be this long.</summary>
    private const int MaxJudgedWholeBytes = 4096;

    // noBrowserControl (docs/policy.md): the message's method is Target.closeTarget, judged at its end on its targetId.
    private bool _conditional;

    // noBrowserControl: the message is an allowed Target.createTarget, whose result names a target the attach created.
    private bool _createsTarget;

    // The unmasked text of the held message, for judging a conditional one whole.
    private byte[]? _plain;
    private int _plainLength;

    // Both pumps: ids of Target.createTarget commands sent, whose results are awaited, and the targets they created.
    private readonly Lock _targetsGate = new();
    private HashSet<long>? _awaitedCreates;
    private HashSet<string>? _createdTargets;
    private int _awaitedCount;

    // The runtime pump: a small text message gathered (it may be a Target.createTarget result), and its length.
    private byte[]? _result;
    private int _resultLength;
    private protected int _resultNeeded;

    private protected enum Verdict : byte
    {
        /// <summary>Between messages.</summary>
        None,

        /// <summary>The method is not known yet: the message is held.</summary>
        Pending,

        Allowed,

        /// <summary>Swallowed to its end, then answered.</summary>
        Denied,
    }

    /// <summary>Commands the policy answered instead of the runtime.</summary>
    public long DeniedCommands => Volatile.Read(ref _deniedCommands);

    /// <summary>
    /// A splice's client-side scan under a policy (<c>ScanClient</c> without one). Stops with <see cref="PolicyStop.DropFrame"/> wherever bytes stop being
    /// skipped: <paramref name="cutStart"/> to <paramref name="cutEnd"/> were held or swallowed (and, when
    /// <see cref="_releaseHeld"/> is set, the held copy goes out before <paramref name="cutEnd"/>), and the scan goes on
    /// at <paramref name="position"/>; with <see cref="PolicyStop.PolicyBreach"/> the bytes before
    /// <paramref name="cutStart"/> go out and the attach ends.
    /// </summary>
    private protected PolicyStop ScanClientUnderPolicy(in ReadOnlySequence<byte> buffer, ref long position, out long cutStart, out long cutEnd)
    {
        cutStart = 0;
        cutEnd = 0;
        foreach (var segment in buffer.Slice(position))
        {
            var span = segment.Span;
            var offset = 0;
            while (offset < span.Length)
            {
                ref var tracker = ref _fromClient.Tracker;
                if (tracker.PayloadRemaining > 0)
                {
                    // A piece of the current data frame's payload: small while the message waits for its verdict, so
                    // that the verdict takes effect where it was reached.
                    var limit = _verdict == Verdict.Pending ? PolicyPiece : int.MaxValue;
                    var length = (int)Math.Min(Math.Min(tracker.PayloadRemaining, span.Length - offset), limit);
                    var piece = span.Slice(offset, length);
                    var frameOffset = _dataHeader.PayloadLength - tracker.PayloadRemaining;
                    tracker.Track(piece, out _); // counts the payload off; its last byte ends the frame
                    if (_fromClient.Prefix is { Gathering: true } gathering)
                    {
                        gathering.Feed(piece);
                    }

                    var at = position + offset;
                    offset += length;
                    var stop = JudgePiece(piece, frameOffset, at, at + length, out cutStart, out cutEnd);
                    if (tracker.PayloadRemaining == 0 && _dataHeader.Fin)
                    {
                        if (stop == PolicyStop.EndOfBuffer)
                        {
                            stop = EndMessage(at + length, out cutStart, out cutEnd);
                        }
                        else if (_releaseHeld)
                        {
                            EndReleasedMessage(); // allowed in its last piece: the whole message is judged here
                        }
                    }

                    if (stop != PolicyStop.EndOfBuffer)
                    {
                        position += offset;
                        return stop;
                    }

                    continue;
                }

                var heldBefore = tracker.PendingBytes;
                var status = tracker.Track(span[offset..], out var consumed);
                offset += consumed;
                switch (status)
                {
                    case TrackStatus.NeedMoreData:
                        continue;
                    case TrackStatus.DataFrameHeader:
                        {
                            var header = tracker.Header;
                            var stop = BeginDataFrame(buffer, header, position + offset, out cutStart, out cutEnd);
                            if (stop != PolicyStop.EndOfBuffer)
                            {
                                position += offset;
                                return stop;
                            }

                            continue;
                        }

                    case TrackStatus.ControlFrame:
                        {
                            var header = tracker.Header;
                            var frameEnd = position + offset;
                            var frameStart = frameEnd - header.FrameLength;
                            if (header.Opcode == WebSocketOpcode.Pong && IsKeepAlivePong())
                            {
                                // A message let go in place is no longer whole and unsent past a cut; one held in place
                                // would carry the pong along if let go in place.
                                _releasedFrom = -1;
                                if (_skipFrom >= 0)
                                {
                                    _heldInBuffer = false;
                                    continue; // inside bytes skipped already
                                }

                                cutStart = frameStart;
                                cutEnd = frameEnd;
                                position = frameEnd;
                                return PolicyStop.DropFrame;
                            }

                            if (header.Opcode == WebSocketOpcode.Close)
                            {
                                RecordClose(ref _fromClient, fromClient: true, ClosePayloadCode(ref _fromClient.Tracker));
                                _verdict = Verdict.None; // a message cut short by the client's close is neither sent nor answered
                                _heldLength = 0;
                            }

                            if (_skipFrom >= 0)
                            {
                                // The control frame goes to the runtime: the skipped bytes end where it starts.
                                cutStart = _skipFrom;
                                cutEnd = frameStart;
                                _skipFrom = -1;
                                _heldInBuffer = false;
                                position = frameEnd;
                                return PolicyStop.DropFrame;
                            }

                            continue;
                        }

                    case TrackStatus.Violation:
                        cutStart = _skipFrom >= 0 ? _skipFrom : position + offset - heldBefore;
                        position += offset;
                        return PolicyStop.Violation;
                }
            }

            position += span.Length;
        }

        return PolicyStop.EndOfBuffer;
    }

    /// <summary>A data frame's header has been read; <paramref name="headerEnd"/> is where its payload starts in the buffer.</summary>
    private PolicyStop BeginDataFrame(in ReadOnlySequence<byte> buffer, in FrameHeader header, long headerEnd, out long cutStart, out long cutEnd)
    {
        cutStart = 0;
        cutEnd = 0;
        var frameStart = headerEnd - header.HeaderLength;
        _dataHeader = header;
        _lastPiece = frameStart;
        if (header.Opcode == WebSocketOpcode.Text)
        {
            if (_observer is not null)
            {
                ObserveClientText(buffer, headerEnd, header);
            }

            _scanner = default;
            _heldLength = 0;
            if (_heldCommand is { Length: > 64 * 1024 })
            {
                ArrayPool<byte>.Shared.Return(_heldCommand); // a large command's room is not kept for the attach's life
                _heldCommand = null;
            }

            _plainLength = 0;
            _conditional = false;
            _createsTarget = false;
            _heldInBuffer = false; // set below only if this frame starts the skipped bytes
            _releasedFrom = -1;
            if (_rate is not null && !_rate.TryTake())
            {
                _verdict = Verdict.Denied; // over the lease's rate: swallowed and answered, whatever its method
                _deniedByPolicy = false;
            }
            else
            {
                // Without a policy, a command within the rate goes on as it is, unread.
                _verdict = _policy is null ? Verdict.None : Verdict.Pending;
                _deniedByPolicy = true;
            }
        }
        else if (header.Opcode == WebSocketOpcode.Binary)
        {
            cutStart = _skipFrom >= 0 ? _skipFrom : frameStart;
            return PolicyStop.PolicyBreach;
        }

        if (_verdict is Verdict.Pending or Verdict.Denied && _skipFrom < 0)
        {
            _skipFrom = frameStart;
            _heldInBuffer = header.Opcode == WebSocketOpcode.Text;
        }

        if (_verdict == Verdict.Pending)
        {
            var destination = HoldRoom(header.HeaderLength);
            buffer.Slice(frameStart, header.HeaderLength).CopyTo(destination);
            _heldLength += header.HeaderLength;
        }

        return header.PayloadLength == 0 && header.Fin ? EndMessage(headerEnd, out cutStart, out cutEnd) : PolicyStop.EndOfBuffer;
    }

    /// <summary>Reads a piece of a text message's payload (<paramref name="start"/> to <paramref name="end"/> in the buffer) and acts on the verdict.</summary>
    private PolicyStop JudgePiece(ReadOnlySpan<byte> piece, long frameOffset, long start, long end, out long cutStart, out long cutEnd)
    {
        cutStart = 0;
        cutEnd = 0;
        if (_verdict == Verdict.None)
        {
            return PolicyStop.EndOfBuffer;
        }

        _lastPiece = start;
        if (_verdict == Verdict.Pending)
        {
            piece.CopyTo(HoldRoom(piece.Length));
            _heldLength += piece.Length;
        }

        var state = Feed(piece, frameOffset);
        if (_verdict == Verdict.Pending)
        {
            if (state == CommandScan.MethodRead && !_conditional)
            {
                var verdict = _policy!.Judge(_scanner.Method);
                if (verdict == MethodVerdict.Allowed)
                {
                    // Allowed: the held copy goes out, then the rest of the message from here.
                    _createsTarget = _policy.Preset == MethodPolicy.NoBrowserControl && _scanner.Method.SequenceEqual("Target.createTarget"u8);
                    _verdict = Verdict.Allowed;
                    return Release(end, out cutStart, out cutEnd);
                }

                // A close of a target the attach may have created: held whole, judged on its params at its end.
                _conditional = verdict == MethodVerdict.IfCreatedTarget;
            }

            if (state == CommandScan.Refused || (state == CommandScan.MethodRead && !_conditional)
                || _heldLength > (_conditional ? MaxJudgedWholeBytes : MaxHeldCommandBytes))
            {
                _verdict = Verdict.Denied; // denied, unreadable, or its method too far in to wait for
                _heldLength = 0;
            }

            return PolicyStop.EndOfBuffer;
        }

        if (_verdict == Verdict.Allowed && state == CommandScan.Refused)
        {
            cutStart = start; // a late refusal: this piece, which may hold the message's last byte, is not sent
            return PolicyStop.PolicyBreach;
        }

        return PolicyStop.EndOfBuffer;
    }

    /// <summary>The message's last byte has been read (at <paramref name="end"/>): send it on, or answer it.</summary>
    private PolicyStop EndMessage(long end, out long cutStart, out long cutEnd)
    {
        cutStart = 0;
        cutEnd = 0;
        var state = _scanner.Complete();
        var verdict = _verdict;
        _verdict = Verdict.None;
        if (verdict == Verdict.Allowed)
        {
            if (state != CommandScan.Refused)
            {
                if (_createsTarget && _scanner.HasId)
                {
                    ExpectCreatedTarget(_scanner.Id);
                }

                return PolicyStop.EndOfBuffer;
            }

            if (_releasedFrom >= 0)
            {
                // Still whole in this buffer and unsent: answered like any command the relay cannot read.
                Answer();
                cutStart = _releasedFrom;
                cutEnd = end;
                _releasedFrom = -1;
                return PolicyStop.DropFrame;
            }

            cutStart = _lastPiece;
            return PolicyStop.PolicyBreach;
        }

        if (verdict == Verdict.None)
        {
            return PolicyStop.EndOfBuffer;
        }

        if (verdict == Verdict.Pending && _conditional && state == CommandScan.MethodRead && ClosesCreatedTarget())
        {
            // A target this attach created: the whole held message goes out now.
            return Release(end, out cutStart, out cutEnd);
        }

        // Pending to its end (no method, a method named too late, a target the attach did not create) or denied:
        // swallowed, and answered.
        _heldLength = 0;
        Answer();
        if (_skipFrom < 0)
        {
            return PolicyStop.EndOfBuffer; // everything skipped lay in earlier buffers
        }

        cutStart = _skipFrom;
        cutEnd = end;
        _skipFrom = -1;
        return PolicyStop.DropFrame;
    }

    /// <summary>
    /// The held message goes to the runtime, up to <paramref name="end"/>. When it lies whole in this buffer the bytes
    /// simply stop being skipped (the usual case: no copy is sent, and the message leaves in the same send as what
    /// follows it); otherwise the copy goes out before the bytes from <paramref name="end"/> on.
    /// </summary>
    private PolicyStop Release(long end, out long cutStart, out long cutEnd)
    {
        cutStart = 0;
        cutEnd = 0;
        var skipFrom = _skipFrom;
        _skipFrom = -1;
        if (_heldInBuffer)
        {
            _heldInBuffer = false;
            _heldLength = 0;
            _releasedFrom = skipFrom;
            return PolicyStop.EndOfBuffer;
        }

        _releaseHeld = true;
        cutStart = skipFrom;
        cutEnd = end;
        return PolicyStop.DropFrame;
    }

    /// <summary>
    /// A message allowed in the piece that ends it: it is whole, so it is completed before the held copy goes out. Should
    /// it not complete (an object never closed), it is answered instead; an allowed <c>Target.createTarget</c> is noted.
    /// </summary>
    private void EndReleasedMessage()
    {
        _verdict = Verdict.None;
        if (_scanner.Complete() == CommandScan.Refused)
        {
            _releaseHeld = false; // the held bytes are dropped, the same span skipped
            _heldLength = 0;
            Answer();
            return;
        }

        if (_createsTarget && _scanner.HasId)
        {
            ExpectCreatedTarget(_scanner.Id);
        }
    }

    /// <summary>Unmasks <paramref name="piece"/> on the stack, 256 bytes at a time, and feeds it to the scanner.</summary>
    private CommandScan Feed(ReadOnlySpan<byte> piece, long frameOffset)
    {
        Span<byte> plain = stackalloc byte[PolicyPiece];
        var state = _scanner.State;
        for (var i = 0; i < piece.Length && state != CommandScan.Refused; i += PolicyPiece)
        {
            var part = piece.Slice(i, Math.Min(PolicyPiece, piece.Length - i));
            var unmasked = plain[..part.Length];
            part.CopyTo(unmasked);
            if (_dataHeader.Masked)
            {
                WebSocketMask.Apply(unmasked, _dataHeader.MaskKey, frameOffset + i);
            }

            state = _scanner.Feed(unmasked);
            if (_verdict == Verdict.Pending && _policy?.Preset == MethodPolicy.NoBrowserControl && _plainLength + unmasked.Length <= MaxJudgedWholeBytes)
            {
                // The plain text of a message that may turn out to be a Target.closeTarget, judged whole at its end.
                _plain ??= new byte[MaxJudgedWholeBytes];
                unmasked.CopyTo(_plain.AsSpan(_plainLength));
                _plainLength += unmasked.Length;
            }
        }

        return state;
    }

    private Span<byte> HoldRoom(int length)
    {
        var needed = _heldLength + length;
        if (_heldCommand is null || _heldCommand.Length < needed)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 1024));
            if (_heldCommand is not null)
            {
                _heldCommand.AsSpan(0, _heldLength).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_heldCommand);
            }

            _heldCommand = larger;
        }

        return _heldCommand.AsSpan(_heldLength, length);
    }



    /// <summary>Writes CDP's answer to the denied command the scanner read: its id, its session, and a -32000 error.</summary>
    private void Answer()
    {
        Interlocked.Increment(ref _deniedCommands);
        var method = _scanner.Method;
        var readable = !method.IsEmpty && System.Text.Unicode.Utf8.IsValid(method);
        var message = (_deniedByPolicy, readable) switch
        {
            (true, true) => $"{Encoding.UTF8.GetString(method)} is denied by this lease's policy ({_policy!.Name}).",
            (true, false) => $"A command whose method the relay cannot read is denied by this lease's policy ({_policy!.Name}).",
            (false, true) => $"{Encoding.UTF8.GetString(method)} is over this lease's quota of {_rate!.Rate} commands per second.",
            (false, false) => $"A command is over this lease's quota of {_rate!.Rate} commands per second.",
        };

        var json = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (_scanner.HasId)
            {
                writer.WriteNumber("id"u8, _scanner.Id);
            }

            var session = _scanner.SessionId;
            if (!session.IsEmpty && System.Text.Unicode.Utf8.IsValid(session))
            {
                writer.WriteString("sessionId"u8, session);
            }

            writer.WriteStartObject("error"u8);
            writer.WriteNumber("code"u8, -32000);
            writer.WriteString("message"u8, message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        // Recorded as the command's result, as the client sees it: the command is not left waiting in the run record.
        _observer?.OnRuntimeMessage(json.WrittenSpan, json.WrittenCount, isWholeMessage: true);

        // An unmasked text frame (the relay is the client's server).
        _newAnswers ??= new ArrayBufferWriter<byte>(256);
        var length = json.WrittenCount;
        var head = _newAnswers.GetSpan(10);
        head[0] = 0x81;
        int headLength;
        if (length < 126)
        {
            head[1] = (byte)length;
            headLength = 2;
        }
        else if (length <= ushort.MaxValue)
        {
            head[1] = 126;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(head[2..], (ushort)length);
            headLength = 4;
        }
        else
        {
            head[1] = 127;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(head[2..], (ulong)length);
            headLength = 10;
        }

        _newAnswers.Advance(headLength);
        _newAnswers.Write(json.WrittenSpan);
    }





    /// <summary>The client pump sent a <c>Target.createTarget</c> with this id: its result names a target the attach created.</summary>
    private void ExpectCreatedTarget(long id)
    {
        lock (_targetsGate)
        {
            _awaitedCreates ??= [];
            if (_awaitedCreates.Count >= 64)
            {
                _awaitedCreates.Clear(); // results that never came (or came too large to read): forget them
            }

            _awaitedCreates.Add(id);
            _awaitedCount = _awaitedCreates.Count;
        }
    }

    /// <summary>Whether the held <c>Target.closeTarget</c> names, in its <c>params.targetId</c>, a target this attach created.</summary>
    private bool ClosesCreatedTarget()
    {
        if (_plain is null || _plainLength == 0)
        {
            return false;
        }

        string? targetId = null;
        try
        {
            var reader = new Utf8JsonReader(_plain.AsSpan(0, _plainLength));
            reader.Read(); // the top-level object: the scanner has read its structure already
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.CurrentDepth == 1 && reader.ValueTextEquals("params"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        return false;
                    }

                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isTarget = reader.ValueTextEquals("targetId"u8);
                        reader.Read();
                        if (isTarget)
                        {
                            if (reader.TokenType != JsonTokenType.String || targetId is not null)
                            {
                                return false; // not a string, or given twice: fail closed
                            }

                            targetId = reader.GetString();
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            return false; // not JSON, or a string that is not valid UTF-8: fail closed
        }

        lock (_targetsGate)
        {
            return targetId is not null && _createdTargets is not null && _createdTargets.Contains(targetId);
        }
    }

    /// <summary>
    /// The runtime pump met a text message's header: while a <c>Target.createTarget</c> awaits its result, a small
    /// whole-frame message is gathered (<see cref="GatherResult"/>) to see whether it is that result.
    /// </summary>
    private protected void WatchRuntimeMessage(in FrameHeader header)
    {
        _resultNeeded = Volatile.Read(ref _awaitedCount) > 0 && header.Fin && header.Opcode == WebSocketOpcode.Text && header.PayloadLength <= 512
            ? (int)header.PayloadLength
            : 0;
        _resultLength = 0;
    }

    /// <summary>Payload bytes of the watched message; at its last, a result <c>{"id":N,"result":{"targetId":"…"}}</c> for an awaited id is noted.</summary>
    private protected void GatherResult(ReadOnlySpan<byte> payload)
    {
        _result ??= new byte[512];
        var take = Math.Min(payload.Length, _resultNeeded - _resultLength);
        payload[..take].CopyTo(_result.AsSpan(_resultLength));
        _resultLength += take;
        if (_resultLength < _resultNeeded)
        {
            return;
        }

        _resultNeeded = 0;
        long? id = null;
        string? targetId = null;
        try
        {
            var reader = new Utf8JsonReader(_result.AsSpan(0, _resultLength));
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isId = reader.ValueTextEquals("id"u8);
                var isResult = reader.ValueTextEquals("result"u8);
                reader.Read();
                if (isId && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value))
                {
                    id = value;
                }
                else if (isResult && reader.TokenType == JsonTokenType.StartObject)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isTarget = reader.ValueTextEquals("targetId"u8);
                        reader.Read();
                        if (isTarget && reader.TokenType == JsonTokenType.String)
                        {
                            targetId = reader.GetString();
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            return;
        }

        if (id is null)
        {
            return;
        }

        lock (_targetsGate)
        {
            if (_awaitedCreates is not null && _awaitedCreates.Remove(id.Value))
            {
                _awaitedCount = _awaitedCreates.Count;
                if (targetId is not null)
                {
                    (_createdTargets ??= new HashSet<string>(StringComparer.Ordinal)).Add(targetId);
                }
            }
        }
    }

    private protected void ReleasePolicyBuffers()
    {
        if (_heldCommand is not null)
        {
            ArrayPool<byte>.Shared.Return(_heldCommand);
            _heldCommand = null;
        }
    }
}
