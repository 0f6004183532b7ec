using System.Text;
using BenchmarkDotNet.Attributes;
using Bctrl.Relay.Frames;
using Bctrl.Relay.Policy;

namespace Bctrl.Relay.Benchmarks;

/// <summary>
/// What a lease's policy and command rate add per command (docs/policy.md, docs/quotas.md): judging a 256-byte command
/// as the pipe splice does (unmask a copy on the stack, read its top level, match its method), and taking a token from
/// the lease's bucket. Neither may allocate.
/// </summary>
[MemoryDiagnoser]
public class PolicyBenchmarks
{
    private const int MaskKey = 0x1234_5678;

    private byte[] _masked = null!;
    private MethodPolicy _policy = null!;
    private CommandBucket _bucket = null!;

    [GlobalSetup]
    public void Setup()
    {
        // The load tool's command shape, 256 bytes: id, method, then params.
        var head = "{\"id\":12345      ,\"method\":\"Runtime.evaluate\",\"params\":{\"expression\":\"";
        var command = head + new string('x', 256 - head.Length - 3) + "\"}}";
        _masked = Encoding.ASCII.GetBytes(command);
        WebSocketMask.Apply(_masked, MaskKey, payloadOffset: 0);
        _policy = MethodPolicy.Create(MethodPolicy.NoBrowserControl, null, ["Storage.*"], out _)!;
        _bucket = new CommandBucket(int.MaxValue / 1000, () => System.Diagnostics.Stopwatch.GetTimestamp(), System.Diagnostics.Stopwatch.Frequency);
        if (!Judge())
        {
            throw new InvalidOperationException("The benchmark command is not allowed.");
        }
    }

    [Benchmark]
    public bool Judge()
    {
        Span<byte> plain = stackalloc byte[256];
        _masked.CopyTo(plain);
        WebSocketMask.Apply(plain, MaskKey, payloadOffset: 0);
        var scanner = default(CdpCommandScanner);
        var allowed = scanner.Feed(plain) == CommandScan.MethodRead && _policy.Allows(scanner.Method);
        return allowed && scanner.Complete() == CommandScan.MethodRead;
    }

    [Benchmark]
    public bool TakeToken() => _bucket.TryTake();
}
