using System.Text;
using Bctrl.Relay.Artifacts;
using BenchmarkDotNet.Attributes;

namespace Bctrl.Relay.Benchmarks;

/// <summary>
/// What an artifact costs (docs/artifacts.md): on the runtime pump, copying a 1 MiB screenshot result as it passes in
/// 64 KiB reads (the one cost a lease with artifacts adds to the splice, paid per artifact only); on the artifact pump,
/// finding and decoding its base64. The copy's buffer is pooled: per capture, only the record of where it came from is
/// allocated.
/// </summary>
[MemoryDiagnoser]
public class ArtifactBenchmarks
{
    private const int Read = 64 * 1024;

    private byte[] _message = null!;
    private ArtifactCapture _capture = null!;

    [GlobalSetup]
    public void Setup()
    {
        // A result as Chromium writes it: 1 MiB of message, nearly all of it the base64 of the image.
        var image = new byte[((1024 * 1024) - 64) / 4 * 3];
        new Random(11).NextBytes(image);
        _message = Encoding.ASCII.GetBytes($$$"""{"id":12,"result":{"data":"{{{Convert.ToBase64String(image)}}}"},"sessionId":"S"}""");
        _capture = new ArtifactCapture(new ReleasingSink(), ArtifactSettings.Default);
        if (ArtifactContent.ReadData(_message, inResult: true) is not { Length: var length } || length != image.Length)
        {
            throw new InvalidOperationException("The benchmark message does not decode.");
        }
    }

    [Benchmark(Description = "capture a 1 MiB result on the runtime pump")]
    public void Capture()
    {
        var message = new CapturedMessage
        {
            Kind = ArtifactKind.Screenshot,
            Method = "Page.captureScreenshot",
            RuntimeId = "bench",
            ConnectionId = Guid.Empty,
            AttachId = 1,
            CommandId = 12,
            CapturedAt = DateTimeOffset.UnixEpoch,
        };
        _capture.Begin(message, _message.AsSpan(0, 1024), _message.Length, finalFrame: true);
        for (var offset = 0; offset < _message.Length; offset += Read)
        {
            var slice = _message.AsSpan(offset, Math.Min(Read, _message.Length - offset));
            _capture.Feed(slice, frameEnds: offset + slice.Length == _message.Length);
        }
    }

    [Benchmark(Description = "decode a 1 MiB result on the artifact pump")]
    public int Decode() => ArtifactContent.ReadData(_message, inResult: true)!.Value.Length;

    private sealed class ReleasingSink : IArtifactSink
    {
        public bool TryTake(CapturedMessage message)
        {
            message.Release();
            return true;
        }

        public void CountLost(string reason) => throw new InvalidOperationException("The benchmark lost its capture: " + reason);

        public bool TryReserve(long bytes) => true;

        public void Unreserve(long bytes)
        {
        }
    }
}
