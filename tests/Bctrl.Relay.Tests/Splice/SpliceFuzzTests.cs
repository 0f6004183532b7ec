using System.Buffers;
using System.IO.Pipelines;
using Bctrl.Relay.Frames;
using Bctrl.Relay.Splice;
using Bctrl.Relay.Tests.Frames;

namespace Bctrl.Relay.Tests.Splice;

/// <summary>
/// Issue 8 hostile suite: the whole splice (both pumps and the supervisor) over in-memory pipes, as the pump benchmark
/// builds it, fed random valid and mutated streams from both sides at random split points. Each far end is a strict
/// peer: it parses every byte it receives with <see cref="ReferenceValidator"/> (the client receives unmasked frames,
/// the runtime masked ones; close codes, minimal lengths, control frames of 125 bytes or less, nothing after a close)
/// and checks that what the other side sent before its first violation arrives byte-exact and in order.
/// Quick by default; <c>RELAY_FUZZ_ITERATIONS</c> makes it long.
/// </summary>
public sealed class SpliceFuzzTests
{
    private const long Limit = 150_000;

    [Fact]
    public async Task Strict_peers_receive_only_valid_frames_and_every_forwardable_byte_in_order()
    {
        var iterations = FuzzStreams.Iterations(quick: 250);
        var firstSeed = FuzzStreams.FirstSeed(100_000);
        var reasons = new Dictionary<AttachEndReason, int>();
        for (var i = 0; i < iterations; i++)
        {
            var reason = await RunOneAsync(firstSeed + i);
            reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
        }

        // Both sides' violations must come up, or the run proves little.
        var summary = string.Join(", ", reasons.Select(r => $"{r.Key} {r.Value}"));
        Assert.True(iterations < 50 || reasons.GetValueOrDefault(AttachEndReason.ClientProtocolError) > 0 && reasons.GetValueOrDefault(AttachEndReason.RuntimeProtocolError) > 0, summary);
    }

    private static async Task<AttachEndReason> RunOneAsync(int seed)
    {
        var random = new Random(seed);
        var clientSent = FuzzStreams.Next(random, masked: true);
        var runtimeSent = FuzzStreams.Next(random, masked: false);
        var context = $"seed {seed} (RELAY_FUZZ_SEED={seed} RELAY_FUZZ_ITERATIONS=1), client sent {clientSent.Length} bytes, runtime sent {runtimeSent.Length} bytes";

        // Inline schedulers: every write runs the pump it wakes on this thread, so the order of writes is the order of events.
        var options = new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, pauseWriterThreshold: 0, useSynchronizationContext: false);
        var clientIn = new Pipe(options);
        var clientOut = new Pipe(options);
        var runtimeIn = new Pipe(options);
        var runtimeOut = new Pipe(options);
        var settings = new SpliceSettings(Limit, TimeSpan.FromHours(1), TimeSpan.FromHours(1), TimeSpan.FromHours(1), TimeSpan.FromSeconds(5));
        using var splice = new AttachSplice(
            new DuplexPipe(clientIn.Reader, clientOut.Writer), new PipeRuntimeLink(runtimeIn.Reader, runtimeOut.Writer), ReadOnlyMemory<byte>.Empty, settings, new SpliceClock());
        var run = splice.RunAsync();

        var clientChunks = Chunks(clientSent, FuzzStreams.Cuts(random, clientSent.Length));
        var runtimeChunks = Chunks(runtimeSent, FuzzStreams.Cuts(random, runtimeSent.Length));
        int c = 0, r = 0;
        while (c < clientChunks.Count || r < runtimeChunks.Count)
        {
            var clientNext = r == runtimeChunks.Count || (c < clientChunks.Count && random.Next(2) == 0);
            await (clientNext ? clientIn.Writer.WriteAsync(clientChunks[c++]) : runtimeIn.Writer.WriteAsync(runtimeChunks[r++]));
        }

        if (random.Next(2) == 0)
        {
            await clientIn.Writer.CompleteAsync();
            await runtimeIn.Writer.CompleteAsync();
        }
        else
        {
            await runtimeIn.Writer.CompleteAsync();
            await clientIn.Writer.CompleteAsync();
        }

        AttachSummary summary;
        try
        {
            summary = await run.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{context}: the splice did not end within 10 s");
            throw;
        }

        context += $", ended {summary.Reason} '{summary.Detail}'";
        ReferenceVerdict fromClient = ReferenceValidator.Validate(clientSent, masked: true, Limit);
        ReferenceVerdict fromRuntime = ReferenceValidator.Validate(runtimeSent, masked: false, Limit);

        // A violation the relay reports is the one the reference finds in that side's stream, and it is the first.
        if (summary.Reason is AttachEndReason.ClientProtocolError or AttachEndReason.ClientMessageTooBig)
        {
            Assert.True(CloseCodes.Describe(fromClient.Violation) == summary.Detail, $"{context}: the reference found {fromClient.Violation}");
        }

        if (summary.Reason is AttachEndReason.RuntimeProtocolError or AttachEndReason.RuntimeMessageTooBig)
        {
            Assert.True(CloseCodes.Describe(fromRuntime.Violation) == summary.Detail, $"{context}: the reference found {fromRuntime.Violation}");
        }

        StrictPeer(
            $"{context}; at the runtime",
            Drain(runtimeOut.Reader),
            clientSent.AsSpan(0, fromClient.ForwardLimit).ToArray(),
            masked: true,
            whole: summary.Reason is AttachEndReason.ClientProtocolError or AttachEndReason.ClientMessageTooBig);
        StrictPeer(
            $"{context}; at the client",
            Drain(clientOut.Reader),
            runtimeSent.AsSpan(0, fromRuntime.ForwardLimit).ToArray(),
            masked: false,
            whole: summary.Reason is AttachEndReason.RuntimeProtocolError or AttachEndReason.RuntimeMessageTooBig);
        return summary.Reason;
    }

    /// <summary>
    /// What one far end checks: every byte it got is a valid stream for its side (a data payload cut by the end of the
    /// connection aside), made of a prefix of what the other side could forward and at most one close of the relay's
    /// own at a frame boundary; the whole of it when the attach ended on the other side's violation.
    /// </summary>
    private static void StrictPeer(string context, byte[] received, byte[] forwardable, bool masked, bool whole)
    {
        ReferenceVerdict peer = ReferenceValidator.Validate(received, masked, Limit);
        Assert.True(peer.Violation == FrameViolation.None, $"{context}: {peer.Violation} at {peer.ViolationAt} of {received.Length} received bytes");
        Assert.True(peer.Tail is StreamTail.None or StreamTail.InDataPayload, $"{context}: the stream ends {peer.Tail} at {peer.TailStart}");

        if (whole)
        {
            Assert.True(received.AsSpan().StartsWith(forwardable), $"{context}: {received.AsSpan().CommonPrefixLength(forwardable)} of {forwardable.Length} forwardable bytes arrived");
        }

        if (!forwardable.AsSpan().StartsWith(received))
        {
            // Not all forwarded: the rest can only be one close of the relay's own, the last frame, at a frame boundary.
            // (Not found by common prefix: the relay's close may start with the same bytes as a frame it never forwarded.)
            ReferenceFrame? own = peer.Frames.Count == 0 ? null : peer.Frames[^1];
            Assert.True(
                own is { Opcode: 8 } && own.End == received.Length && forwardable.AsSpan().StartsWith(received.AsSpan(0, own.Start)),
                $"{context}: the {received.Length} bytes received are not forwarded bytes and one close of the relay's: "
                    + $"{received.AsSpan().CommonPrefixLength(forwardable)} bytes in common, then {Convert.ToHexString(received.AsSpan(received.AsSpan().CommonPrefixLength(forwardable)))}");
        }
    }

    private static List<ReadOnlyMemory<byte>> Chunks(byte[] stream, int[] cuts)
    {
        var chunks = new List<ReadOnlyMemory<byte>>();
        var start = 0;
        foreach (var cut in cuts.Append(stream.Length))
        {
            if (cut > start)
            {
                chunks.Add(stream.AsMemory(start, cut - start));
                start = cut;
            }
        }

        return chunks;
    }

    private static byte[] Drain(PipeReader reader)
    {
        if (!reader.TryRead(out var result))
        {
            return [];
        }

        var bytes = result.Buffer.ToArray();
        reader.AdvanceTo(result.Buffer.End);
        return bytes;
    }
}
