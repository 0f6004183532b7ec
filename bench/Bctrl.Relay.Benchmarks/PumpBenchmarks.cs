using System.IO.Pipelines;
using Bctrl.Relay.Frames;
using Bctrl.Relay.Splice;
using BenchmarkDotNet.Attributes;

namespace Bctrl.Relay.Benchmarks;

/// <summary>
/// The splice's two pumps with no sockets (docs/design.md §9): the client is a pair of pipes standing in for Kestrel's
/// transport, the runtime a <see cref="PipeRuntimeLink"/>. Every pipe runs its continuations inline, so one operation
/// (write a frame, flush, take what the pump forwarded) runs the pump on the benchmark's thread and measures its own
/// cost: tracking, forwarding, flushing. The budget is 0 bytes allocated per forwarded frame
/// (bench/allocation-budgets.json).
/// </summary>
[MemoryDiagnoser]
public class PumpBenchmarks
{
    private Pipe _clientIn = null!;
    private Pipe _clientOut = null!;
    private Pipe _runtimeIn = null!;
    private Pipe _runtimeOut = null!;
    private AttachSplice _splice = null!;
    private Task<AttachSummary> _run = null!;
    private byte[] _clientFrame = null!;
    private byte[] _runtimeFrame = null!;

    [Params(256, 4096, 65536, 1048576)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // Inline schedulers: a flush runs the waiting pump at once, on this thread. No pause threshold: the benchmark
        // drains each side after every frame, and a 1 MiB frame must not wait for a reader that is this same thread.
        // The pool stands in for Kestrel's, which keeps every 4 KiB block it hands out: with the shared array pool, a
        // 1 MiB frame's 256 blocks would overflow its buckets and the harness, not the pump, would allocate.
        var options = new PipeOptions(pool: new BlockPool(), minimumSegmentSize: BlockPool.BlockSize, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, pauseWriterThreshold: 0, useSynchronizationContext: false);
        _clientIn = new Pipe(options);
        _clientOut = new Pipe(options);
        _runtimeIn = new Pipe(options);
        _runtimeOut = new Pipe(options);

        var settings = new SpliceSettings(256L << 20, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));
        var client = new DuplexPipe(_clientIn.Reader, _clientOut.Writer);
        _splice = new AttachSplice(client, new PipeRuntimeLink(_runtimeIn.Reader, _runtimeOut.Writer), ReadOnlyMemory<byte>.Empty, settings, new SpliceClock());
        _run = _splice.RunAsync();

        _clientFrame = BenchmarkFrames.Frame(Size, masked: true);
        _runtimeFrame = BenchmarkFrames.Frame(Size, masked: false);
        if (ClientToRuntime() != _clientFrame.Length || RuntimeToClient() != _runtimeFrame.Length)
        {
            throw new InvalidOperationException("The pump did not forward the frames whole.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _splice.Abort(AttachEndReason.RelayFault);
        _clientIn.Writer.Complete();
        _runtimeIn.Writer.Complete();
        _clientOut.Reader.Complete();
        _runtimeOut.Reader.Complete();
        _run.Wait(TimeSpan.FromSeconds(5));
        _splice.Dispose();
    }

    [Benchmark(Description = "Client to runtime: one masked binary frame")]
    public long ClientToRuntime() => Forward(_clientFrame, _clientIn.Writer, _runtimeOut.Reader);

    [Benchmark(Description = "Runtime to client: one binary frame")]
    public long RuntimeToClient() => Forward(_runtimeFrame, _runtimeIn.Writer, _clientOut.Reader);

    /// <summary>
    /// Writes the frame where the pump reads, 64 KiB at a time (a socket hands a large frame over in pieces, and
    /// Kestrel's pipes hold at most about that much), taking everything the pump wrote on the other side after each.
    /// </summary>
    private static long Forward(byte[] frame, PipeWriter into, PipeReader from)
    {
        const int Chunk = 64 * 1024;
        long taken = 0;
        for (var offset = 0; offset < frame.Length; offset += Chunk)
        {
            var flush = into.WriteAsync(frame.AsMemory(offset, Math.Min(Chunk, frame.Length - offset)));
            if (!flush.IsCompletedSuccessfully)
            {
                throw new InvalidOperationException("The write did not complete inline.");
            }

            if (from.TryRead(out var result))
            {
                taken += result.Buffer.Length;
                from.AdvanceTo(result.Buffer.End);
            }
        }

        return taken;
    }

    /// <summary>An unbounded pool of 4 KiB blocks, like Kestrel's pinned block pool (benchmark harness only).</summary>
    private sealed class BlockPool : System.Buffers.MemoryPool<byte>
    {
        public const int BlockSize = 4096;

        private readonly Stack<Block> _free = new();

        public override int MaxBufferSize => BlockSize;

        public override System.Buffers.IMemoryOwner<byte> Rent(int minBufferSize = -1)
        {
            if (minBufferSize > BlockSize)
            {
                throw new ArgumentOutOfRangeException(nameof(minBufferSize));
            }

            lock (_free)
            {
                return _free.TryPop(out var block) ? block : new Block(this);
            }
        }

        protected override void Dispose(bool disposing)
        {
        }

        private void Return(Block block)
        {
            lock (_free)
            {
                _free.Push(block);
            }
        }

        private sealed class Block(BlockPool pool) : System.Buffers.IMemoryOwner<byte>
        {
            public Memory<byte> Memory { get; } = new byte[BlockSize];

            public void Dispose() => pool.Return(this);
        }
    }
}
