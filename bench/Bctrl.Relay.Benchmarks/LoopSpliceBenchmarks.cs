using System.Net.Sockets;
using Bctrl.Relay.Frames;
using Bctrl.Relay.Loops;
using Bctrl.Relay.Splice;
using BenchmarkDotNet.Attributes;

namespace Bctrl.Relay.Benchmarks;

/// <summary>
/// The relay transport's loop splice (issue 9, docs/design.md §11) on a real I/O loop, between two pairs of local
/// stream sockets standing in for the client's and the runtime's TCP connections. One operation writes a frame where a
/// peer would, 64 KiB at a time, and reads it whole on the far side; the loop forwards it in between. The loop's
/// allocations count too (the memory diagnoser counts every thread's), and the budget is 0 bytes per forwarded frame
/// (bench/allocation-budgets.json).
/// </summary>
[MemoryDiagnoser]
public class LoopSpliceBenchmarks
{
    private const int Chunk = 64 * 1024;

    private IoLoop _loop = null!;
    private LoopSplice _splice = null!;
    private Socket _client = null!;
    private Socket _runtime = null!;
    private byte[] _clientFrame = null!;
    private byte[] _runtimeFrame = null!;
    private byte[] _sink = null!;

    [Params(256, 4096, 65536, 1048576)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (!LinuxSockets.IsSupported)
        {
            throw new PlatformNotSupportedException("The relay transport runs on Linux.");
        }

        var (client, clientInner) = LinuxSockets.CreatePair();
        var (runtime, runtimeInner) = LinuxSockets.CreatePair();
        _client = new Socket(new SafeSocketHandle(client, ownsHandle: true));
        _runtime = new Socket(new SafeSocketHandle(runtime, ownsHandle: true));
        _loop = new IoLoop(0);

        // The loop registers the inner ends, as a detached connection and a runtime dial would have.
        var registered = new Registration(_loop, clientInner, runtimeInner);
        _loop.Post(registered);
        registered.Done.Wait(TimeSpan.FromSeconds(5));

        var settings = new SpliceSettings(256L << 20, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));
        _splice = new LoopSplice(_loop, clientInner, registered.ClientToken, default, null, runtimeInner, registered.RuntimeToken, default, settings, null, new Ignored());
        _splice.Start();

        _clientFrame = BenchmarkFrames.Frame(Size, masked: true);
        _runtimeFrame = BenchmarkFrames.Frame(Size, masked: false);
        _sink = new byte[Chunk];
        if (ClientToRuntime() != _clientFrame.Length || RuntimeToClient() != _runtimeFrame.Length)
        {
            throw new InvalidOperationException("The splice did not forward the frames whole.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _splice.Abort(AttachEndReason.RelayFault);
        _client.Dispose();
        _runtime.Dispose();
        Thread.Sleep(100);
        _loop.Dispose();
    }

    [Benchmark(Description = "Client to runtime: one masked binary frame")]
    public long ClientToRuntime() => Forward(_clientFrame, _client, _runtime);

    [Benchmark(Description = "Runtime to client: one binary frame")]
    public long RuntimeToClient() => Forward(_runtimeFrame, _runtime, _client);

    private long Forward(byte[] frame, Socket into, Socket from)
    {
        long taken = 0;
        for (var offset = 0; offset < frame.Length; offset += Chunk)
        {
            var length = Math.Min(Chunk, frame.Length - offset);
            into.Send(frame, offset, length, SocketFlags.None);
            for (var got = 0; got < length;)
            {
                got += from.Receive(_sink, 0, length - got, SocketFlags.None);
            }

            taken += length;
        }

        return taken;
    }

    private sealed class Registration(IoLoop loop, int client, int runtime) : ILoopWork, IIoHandler
    {
        public ManualResetEventSlim Done { get; } = new();

        public int ClientToken { get; private set; }

        public int RuntimeToken { get; private set; }

        public void RunOnLoop()
        {
            ClientToken = loop.Register(client, this, 0);
            RuntimeToken = loop.Register(runtime, this, 1);
            Done.Set();
        }

        public void OnEvents(uint events, int side)
        {
        }

        public void OnFault(Exception exception)
        {
        }
    }

    private sealed class Ignored : ILoopSpliceEnd
    {
        public void Ended(LoopSplice splice, AttachSummary summary, Exception? fault)
        {
        }
    }
}
