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
/// the stack. Until its method is known the message is copied aside (<see cref="_p.HeldCommand"/>) and its bytes are not
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
    /// <summary>What a scan of the client's bytes stops on: the pipe splice's own scan, and <see cref="ScanClientUnderPolicy"/>.</summary>
    private protected enum ClientScanStop : byte
    {
        EndOfBuffer,

        /// <summary>Bytes from cutStart to cutEnd are not sent (held, swallowed, or a keep-alive pong); with <see cref="_p.ReleaseHeld"/> the held copy goes out first.</summary>
        DropFrame,

        Violation,

        /// <summary>A message broke the policy where it could not be answered: the bytes before cutStart go out, and the attach ends with 1008.</summary>
        PolicyBreach,
    }

    // A client message was cut inside a frame the runtime has begun to receive: it must get no close frame, which would
    // complete that frame with the close's bytes.
    private protected bool _runtimeFrameCut;

    // The scan's state, made by Guard for an attach with a policy or a rate only: any other attach carries one null
    // reference, not the scanner's few hundred bytes (issue 9 counts memory per idle attach).
    private protected PolicyState _p = null!;

    /// <summary>Holds the attach's client leg to its lease's policy and command rate; called before the splice starts.</summary>
    public void Guard(MethodPolicy? policy, CommandBucket? rate)
    {
        _policy = policy;
        _rate = rate;
        _guarded = policy is not null || rate is not null;
        if (_guarded)
        {
            _p = new PolicyState();
        }
    }

    /// <summary>The state of a guarded attach's scan of its client's commands (see the remarks on the class).</summary>
    private protected sealed class PolicyState
    {
        public readonly Lock TargetsGate = new();

        // Why the message being swallowed was refused: the policy, or the rate (false).
        public bool DeniedByPolicy;

        public Verdict Verdict;

        public CdpCommandScanner Scanner;

        // The current data frame's header: the tracker's own moves on to any control frame in between.
        public FrameHeader DataHeader;

        // Where, in the buffer being scanned, client bytes stopped going to the runtime (held or swallowed); -1 while they go.
        public long SkipFrom = -1;

        // Where the last piece of the current message began: a late refusal cuts the message there.
        public long LastPiece;

        public byte[]? HeldCommand;
        public int HeldLength;
        public bool ReleaseHeld;

        // The held message began in the buffer being scanned and nothing of it was cut out since: all its bytes are still
        // in that buffer from SkipFrom on, so an allowed verdict lets them go from there, with no copy sent.
        public bool HeldInBuffer;

        // Where, in the buffer being scanned, a message let go in place began (-1: none, or no longer whole here): a
        // message that then fails to complete is answered and skipped whole rather than cut.
        public long ReleasedFrom = -1;

        // Answers made while scanning, handed to the splice's client leg after each stop.
        public ArrayBufferWriter<byte>? NewAnswers;

        // noBrowserControl (docs/policy.md): the message's method is Target.closeTarget, judged at its end on its targetId.
        public bool Conditional;

        // noBrowserControl: the message is an allowed Target.createTarget, whose result names a target the attach created.
        public bool CreatesTarget;

        // The unmasked text of the held message, for judging a conditional one whole.
        public byte[]? Plain;
        public int PlainLength;

        // Both pumps (under TargetsGate): ids of Target.createTarget commands sent, whose results are awaited, and the
        // targets they created.
        public HashSet<long>? AwaitedCreates;
        public HashSet<string>? CreatedTargets;
        public int AwaitedCount;

        // The runtime pump: a small text message gathered (it may be a Target.createTarget result), and its length.
        public byte[]? Result;
        public int ResultLength;
    }

    /// <summary>The sampler's look at a client text message's first frame, whose payload starts at <paramref name="payloadStart"/>.</summary>
    private protected abstract void ObserveClientText(in ReadOnlySequence<byte> buffer, long payloadStart, in FrameHeader header);

    /// <summary>The end of a scanned buffer: positions start again with the next, inside a skipped payload or at a frame boundary.</summary>
    private protected void EndPolicyBuffer()
    {
        _p.SkipFrom = _p.Verdict is Verdict.Pending or Verdict.Denied && _fromClient.Tracker.PayloadRemaining > 0 ? 0 : -1;
        _p.HeldInBuffer = false; // a held message's first bytes are in the copy only now
        _p.ReleasedFrom = -1;
    }

    /// <summary>
    /// Whether the runtime's stream to the client is between messages, and its close has not passed: where the relay's
    /// answers may go. Between frames is not enough: an answer is a data frame, which may not cut into a fragmented one.
    /// </summary>
    private protected bool ClientStreamTakesAnswers
        => _fromRuntime.Tracker.PayloadRemaining == 0 && !_fromRuntime.Tracker.InMessage && !_fromRuntime.Tracker.CloseSeen;

    /// <summary>
    /// Moves the answers made while scanning to the end of a splice's queue of answers waiting for the client,
    /// growing it as needed; false, leaving the queue as it was, when more than <see cref="MaxQueuedAnswerBytes"/>
    /// would wait (refused commands piling up behind a runtime message).
    /// </summary>
    private protected bool QueueNewAnswers(ref byte[]? queue, ref int length)
    {
        var made = _p.NewAnswers!.WrittenSpan;
        if (length + made.Length > MaxQueuedAnswerBytes)
        {
            return false;
        }

        if (queue is null || queue.Length < length + made.Length)
        {
            var larger = new byte[Math.Max(length + made.Length, 1024)];
            queue?.AsSpan(0, length).CopyTo(larger);
            queue = larger;
        }

        made.CopyTo(queue.AsSpan(length));
        length += made.Length;
        _p.NewAnswers.ResetWrittenCount();
        return true;
    }

    /// <summary>The held copy of an allowed message, to send before the bytes from cutEnd on; empty afterwards.</summary>
    private protected ReadOnlyMemory<byte> TakeHeldCommand()
    {
        var held = _p.HeldCommand.AsMemory(0, _p.HeldLength);
        _p.HeldLength = 0;
        _p.ReleaseHeld = false;
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











    // Commands the relay answered instead of the runtime: denied by the policy, over the rate.
    private long _refusedByPolicy;
    private long _refusedByRate;

    /// <summary>A command judged whole (a <c>Target.closeTarget</c> under <c>noBrowserControl</c>) may be this long.</summary>
    private const int MaxJudgedWholeBytes = 4096;





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

    /// <summary>Commands the relay answered instead of the runtime, by why: the policy, the rate.</summary>
    public (long Policy, long Rate) CommandsRefused => (Volatile.Read(ref _refusedByPolicy), Volatile.Read(ref _refusedByRate));

    /// <summary>
    /// A splice's client-side scan under a policy (<c>ScanClient</c> without one). Stops with <see cref="ClientScanStop.DropFrame"/> wherever bytes stop being
    /// skipped: <paramref name="cutStart"/> to <paramref name="cutEnd"/> were held or swallowed (and, when
    /// <see cref="_p.ReleaseHeld"/> is set, the held copy goes out before <paramref name="cutEnd"/>), and the scan goes on
    /// at <paramref name="position"/>; with <see cref="ClientScanStop.PolicyBreach"/> the bytes before
    /// <paramref name="cutStart"/> go out and the attach ends.
    /// </summary>
    private protected ClientScanStop ScanClientUnderPolicy(in ReadOnlySequence<byte> buffer, ref long position, out long cutStart, out long cutEnd)
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
                    var limit = _p.Verdict == Verdict.Pending ? PolicyPiece : int.MaxValue;
                    var length = (int)Math.Min(Math.Min(tracker.PayloadRemaining, span.Length - offset), limit);
                    var piece = span.Slice(offset, length);
                    var frameOffset = _p.DataHeader.PayloadLength - tracker.PayloadRemaining;
                    tracker.Track(piece, out _); // counts the payload off; its last byte ends the frame
                    if (_fromClient.Prefix is { Gathering: true } gathering)
                    {
                        gathering.Feed(piece);
                    }

                    var at = position + offset;
                    offset += length;
                    var stop = JudgePiece(piece, frameOffset, at, at + length, out cutStart, out cutEnd);
                    if (tracker.PayloadRemaining == 0 && _p.DataHeader.Fin)
                    {
                        if (stop == ClientScanStop.EndOfBuffer)
                        {
                            stop = EndMessage(at + length, out cutStart, out cutEnd);
                        }
                        else if (_p.ReleaseHeld)
                        {
                            EndReleasedMessage(); // allowed in its last piece: the whole message is judged here
                        }
                    }

                    if (stop != ClientScanStop.EndOfBuffer)
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
                            if (stop != ClientScanStop.EndOfBuffer)
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
                                _p.ReleasedFrom = -1;
                                if (_p.SkipFrom >= 0)
                                {
                                    _p.HeldInBuffer = false;
                                    continue; // inside bytes skipped already
                                }

                                cutStart = frameStart;
                                cutEnd = frameEnd;
                                position = frameEnd;
                                return ClientScanStop.DropFrame;
                            }

                            if (header.Opcode == WebSocketOpcode.Close)
                            {
                                RecordClose(ref _fromClient, fromClient: true, ClosePayloadCode(ref _fromClient.Tracker));
                                _p.Verdict = Verdict.None; // a message cut short by the client's close is neither sent nor answered
                                _p.HeldLength = 0;
                            }

                            if (_p.SkipFrom >= 0)
                            {
                                // The control frame goes to the runtime: the skipped bytes end where it starts.
                                cutStart = _p.SkipFrom;
                                cutEnd = frameStart;
                                _p.SkipFrom = -1;
                                _p.HeldInBuffer = false;
                                position = frameEnd;
                                return ClientScanStop.DropFrame;
                            }

                            continue;
                        }

                    case TrackStatus.Violation:
                        cutStart = _p.SkipFrom >= 0 ? _p.SkipFrom : position + offset - heldBefore;
                        position += offset;
                        return ClientScanStop.Violation;
                }
            }

            position += span.Length;
        }

        return ClientScanStop.EndOfBuffer;
    }

    /// <summary>A data frame's header has been read; <paramref name="headerEnd"/> is where its payload starts in the buffer.</summary>
    private ClientScanStop BeginDataFrame(in ReadOnlySequence<byte> buffer, in FrameHeader header, long headerEnd, out long cutStart, out long cutEnd)
    {
        cutStart = 0;
        cutEnd = 0;
        var frameStart = headerEnd - header.HeaderLength;
        _p.DataHeader = header;
        _p.LastPiece = frameStart;
        if (header.Opcode == WebSocketOpcode.Text)
        {
            if (_observer is not null)
            {
                ObserveClientText(buffer, headerEnd, header);
            }

            _p.Scanner = default;
            _p.HeldLength = 0;
            if (_p.HeldCommand is { Length: > 64 * 1024 })
            {
                ArrayPool<byte>.Shared.Return(_p.HeldCommand); // a large command's room is not kept for the attach's life
                _p.HeldCommand = null;
            }

            _p.PlainLength = 0;
            _p.Conditional = false;
            _p.CreatesTarget = false;
            _p.HeldInBuffer = false; // set below only if this frame starts the skipped bytes
            _p.ReleasedFrom = -1;
            if (_rate is not null && !_rate.TryTake())
            {
                _p.Verdict = Verdict.Denied; // over the lease's rate: swallowed and answered, whatever its method
                _p.DeniedByPolicy = false;
            }
            else
            {
                // Without a policy, a command within the rate goes on as it is, unread.
                _p.Verdict = _policy is null ? Verdict.None : Verdict.Pending;
                _p.DeniedByPolicy = true;
            }
        }
        else if (header.Opcode == WebSocketOpcode.Binary)
        {
            cutStart = _p.SkipFrom >= 0 ? _p.SkipFrom : frameStart;
            return ClientScanStop.PolicyBreach;
        }

        if (_p.Verdict is Verdict.Pending or Verdict.Denied && _p.SkipFrom < 0)
        {
            _p.SkipFrom = frameStart;
            _p.HeldInBuffer = header.Opcode == WebSocketOpcode.Text;
        }

        if (_p.Verdict == Verdict.Pending)
        {
            var destination = HoldRoom(header.HeaderLength);
            buffer.Slice(frameStart, header.HeaderLength).CopyTo(destination);
            _p.HeldLength += header.HeaderLength;
        }

        return header.PayloadLength == 0 && header.Fin ? EndMessage(headerEnd, out cutStart, out cutEnd) : ClientScanStop.EndOfBuffer;
    }

    /// <summary>Reads a piece of a text message's payload (<paramref name="start"/> to <paramref name="end"/> in the buffer) and acts on the verdict.</summary>
    private ClientScanStop JudgePiece(ReadOnlySpan<byte> piece, long frameOffset, long start, long end, out long cutStart, out long cutEnd)
    {
        cutStart = 0;
        cutEnd = 0;
        if (_p.Verdict == Verdict.None)
        {
            return ClientScanStop.EndOfBuffer;
        }

        _p.LastPiece = start;
        if (_p.Verdict == Verdict.Pending)
        {
            piece.CopyTo(HoldRoom(piece.Length));
            _p.HeldLength += piece.Length;
        }

        var state = Feed(piece, frameOffset);
        if (_p.Verdict == Verdict.Pending)
        {
            if (state == CommandScan.MethodRead && !_p.Conditional)
            {
                var verdict = _policy!.Judge(_p.Scanner.Method);
                if (verdict == MethodVerdict.Allowed)
                {
                    // Allowed: the held copy goes out, then the rest of the message from here.
                    _p.CreatesTarget = _policy.Preset == MethodPolicy.NoBrowserControl && _p.Scanner.Method.SequenceEqual("Target.createTarget"u8);
                    _p.Verdict = Verdict.Allowed;
                    return Release(end, out cutStart, out cutEnd);
                }

                // A close of a target the attach may have created: held whole, judged on its params at its end.
                _p.Conditional = verdict == MethodVerdict.IfCreatedTarget;
            }

            if (state == CommandScan.Refused || (state == CommandScan.MethodRead && !_p.Conditional)
                || _p.HeldLength > (_p.Conditional ? MaxJudgedWholeBytes : MaxHeldCommandBytes))
            {
                _p.Verdict = Verdict.Denied; // denied, unreadable, or its method too far in to wait for
                _p.HeldLength = 0;
            }

            return ClientScanStop.EndOfBuffer;
        }

        if (_p.Verdict == Verdict.Allowed && state == CommandScan.Refused)
        {
            cutStart = start; // a late refusal: this piece, which may hold the message's last byte, is not sent
            return ClientScanStop.PolicyBreach;
        }

        return ClientScanStop.EndOfBuffer;
    }

    /// <summary>The message's last byte has been read (at <paramref name="end"/>): send it on, or answer it.</summary>
    private ClientScanStop EndMessage(long end, out long cutStart, out long cutEnd)
    {
        cutStart = 0;
        cutEnd = 0;
        var state = _p.Scanner.Complete();
        var verdict = _p.Verdict;
        _p.Verdict = Verdict.None;
        if (verdict == Verdict.Allowed)
        {
            if (state != CommandScan.Refused)
            {
                if (_p.CreatesTarget && _p.Scanner.HasId)
                {
                    ExpectCreatedTarget(_p.Scanner.Id);
                }

                return ClientScanStop.EndOfBuffer;
            }

            if (_p.ReleasedFrom >= 0)
            {
                // Still whole in this buffer and unsent: answered like any command the relay cannot read.
                Answer();
                cutStart = _p.ReleasedFrom;
                cutEnd = end;
                _p.ReleasedFrom = -1;
                return ClientScanStop.DropFrame;
            }

            cutStart = _p.LastPiece;
            return ClientScanStop.PolicyBreach;
        }

        if (verdict == Verdict.None)
        {
            return ClientScanStop.EndOfBuffer;
        }

        if (verdict == Verdict.Pending && _p.Conditional && state == CommandScan.MethodRead && ClosesCreatedTarget())
        {
            // A target this attach created: the whole held message goes out now.
            return Release(end, out cutStart, out cutEnd);
        }

        // Pending to its end (no method, a method named too late, a target the attach did not create) or denied:
        // swallowed, and answered.
        _p.HeldLength = 0;
        Answer();
        if (_p.SkipFrom < 0)
        {
            return ClientScanStop.EndOfBuffer; // everything skipped lay in earlier buffers
        }

        cutStart = _p.SkipFrom;
        cutEnd = end;
        _p.SkipFrom = -1;
        return ClientScanStop.DropFrame;
    }

    /// <summary>
    /// The held message goes to the runtime, up to <paramref name="end"/>. When it lies whole in this buffer the bytes
    /// simply stop being skipped (the usual case: no copy is sent, and the message leaves in the same send as what
    /// follows it); otherwise the copy goes out before the bytes from <paramref name="end"/> on.
    /// </summary>
    private ClientScanStop Release(long end, out long cutStart, out long cutEnd)
    {
        cutStart = 0;
        cutEnd = 0;
        var skipFrom = _p.SkipFrom;
        _p.SkipFrom = -1;
        if (_p.HeldInBuffer)
        {
            _p.HeldInBuffer = false;
            _p.HeldLength = 0;
            _p.ReleasedFrom = skipFrom;
            return ClientScanStop.EndOfBuffer;
        }

        _p.ReleaseHeld = true;
        cutStart = skipFrom;
        cutEnd = end;
        return ClientScanStop.DropFrame;
    }

    /// <summary>
    /// A message allowed in the piece that ends it: it is whole, so it is completed before the held copy goes out. Should
    /// it not complete (an object never closed), it is answered instead; an allowed <c>Target.createTarget</c> is noted.
    /// </summary>
    private void EndReleasedMessage()
    {
        _p.Verdict = Verdict.None;
        if (_p.Scanner.Complete() == CommandScan.Refused)
        {
            _p.ReleaseHeld = false; // the held bytes are dropped, the same span skipped
            _p.HeldLength = 0;
            Answer();
            return;
        }

        if (_p.CreatesTarget && _p.Scanner.HasId)
        {
            ExpectCreatedTarget(_p.Scanner.Id);
        }
    }

    /// <summary>Unmasks <paramref name="piece"/> on the stack, 256 bytes at a time, and feeds it to the scanner.</summary>
    private CommandScan Feed(ReadOnlySpan<byte> piece, long frameOffset)
    {
        Span<byte> plain = stackalloc byte[PolicyPiece];
        var state = _p.Scanner.State;
        for (var i = 0; i < piece.Length && state != CommandScan.Refused; i += PolicyPiece)
        {
            var part = piece.Slice(i, Math.Min(PolicyPiece, piece.Length - i));
            var unmasked = plain[..part.Length];
            part.CopyTo(unmasked);
            if (_p.DataHeader.Masked)
            {
                WebSocketMask.Apply(unmasked, _p.DataHeader.MaskKey, frameOffset + i);
            }

            state = _p.Scanner.Feed(unmasked);
            if (_p.Verdict == Verdict.Pending && _policy?.Preset == MethodPolicy.NoBrowserControl && _p.PlainLength + unmasked.Length <= MaxJudgedWholeBytes)
            {
                // The plain text of a message that may turn out to be a Target.closeTarget, judged whole at its end.
                _p.Plain ??= new byte[MaxJudgedWholeBytes];
                unmasked.CopyTo(_p.Plain.AsSpan(_p.PlainLength));
                _p.PlainLength += unmasked.Length;
            }
        }

        return state;
    }

    private Span<byte> HoldRoom(int length)
    {
        var needed = _p.HeldLength + length;
        if (_p.HeldCommand is null || _p.HeldCommand.Length < needed)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 1024));
            if (_p.HeldCommand is not null)
            {
                _p.HeldCommand.AsSpan(0, _p.HeldLength).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_p.HeldCommand);
            }

            _p.HeldCommand = larger;
        }

        return _p.HeldCommand.AsSpan(_p.HeldLength, length);
    }



    /// <summary>Writes CDP's answer to the denied command the scanner read: its id, its session, and a -32000 error.</summary>
    private void Answer()
    {
        Interlocked.Increment(ref _p.DeniedByPolicy ? ref _refusedByPolicy : ref _refusedByRate);
        var method = _p.Scanner.Method;
        var readable = !method.IsEmpty && System.Text.Unicode.Utf8.IsValid(method);
        var message = (_p.DeniedByPolicy, readable) switch
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
            if (_p.Scanner.HasId)
            {
                writer.WriteNumber("id"u8, _p.Scanner.Id);
            }

            var session = _p.Scanner.SessionId;
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
        _p.NewAnswers ??= new ArrayBufferWriter<byte>(256);
        var length = json.WrittenCount;
        var head = _p.NewAnswers.GetSpan(10);
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

        _p.NewAnswers.Advance(headLength);
        _p.NewAnswers.Write(json.WrittenSpan);
    }





    /// <summary>The client pump sent a <c>Target.createTarget</c> with this id: its result names a target the attach created.</summary>
    private void ExpectCreatedTarget(long id)
    {
        lock (_p.TargetsGate)
        {
            _p.AwaitedCreates ??= [];
            if (_p.AwaitedCreates.Count >= 64)
            {
                _p.AwaitedCreates.Clear(); // results that never came (or came too large to read): forget them
            }

            _p.AwaitedCreates.Add(id);
            _p.AwaitedCount = _p.AwaitedCreates.Count;
        }
    }

    /// <summary>Whether the held <c>Target.closeTarget</c> names, in its <c>params.targetId</c>, a target this attach created.</summary>
    private bool ClosesCreatedTarget()
    {
        if (_p.Plain is null || _p.PlainLength == 0)
        {
            return false;
        }

        string? targetId = null;
        try
        {
            var reader = new Utf8JsonReader(_p.Plain.AsSpan(0, _p.PlainLength));
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

        lock (_p.TargetsGate)
        {
            return targetId is not null && _p.CreatedTargets is not null && _p.CreatedTargets.Contains(targetId);
        }
    }

    /// <summary>
    /// The runtime pump met a text message's header: while a <c>Target.createTarget</c> awaits its result, a small
    /// whole-frame message is gathered (<see cref="GatherResult"/>) to see whether it is that result.
    /// </summary>
    private protected void WatchRuntimeMessage(in FrameHeader header)
    {
        _resultNeeded = Volatile.Read(ref _p.AwaitedCount) > 0 && header.Fin && header.Opcode == WebSocketOpcode.Text && header.PayloadLength <= 512
            ? (int)header.PayloadLength
            : 0;
        _p.ResultLength = 0;
    }

    /// <summary>Payload bytes of the watched message; at its last, a result <c>{"id":N,"result":{"targetId":"…"}}</c> for an awaited id is noted.</summary>
    private protected void GatherResult(ReadOnlySpan<byte> payload)
    {
        _p.Result ??= new byte[512];
        var take = Math.Min(payload.Length, _resultNeeded - _p.ResultLength);
        payload[..take].CopyTo(_p.Result.AsSpan(_p.ResultLength));
        _p.ResultLength += take;
        if (_p.ResultLength < _resultNeeded)
        {
            return;
        }

        _resultNeeded = 0;
        long? id = null;
        string? targetId = null;
        try
        {
            var reader = new Utf8JsonReader(_p.Result.AsSpan(0, _p.ResultLength));
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

        lock (_p.TargetsGate)
        {
            if (_p.AwaitedCreates is not null && _p.AwaitedCreates.Remove(id.Value))
            {
                _p.AwaitedCount = _p.AwaitedCreates.Count;
                if (targetId is not null)
                {
                    (_p.CreatedTargets ??= new HashSet<string>(StringComparer.Ordinal)).Add(targetId);
                }
            }
        }
    }

    private protected void ReleasePolicyBuffers()
    {
        if (_guarded && _p.HeldCommand is not null)
        {
            ArrayPool<byte>.Shared.Return(_p.HeldCommand);
            _p.HeldCommand = null;
        }
    }
}
