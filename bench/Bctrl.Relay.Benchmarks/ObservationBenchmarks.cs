using System.Text;
using Bctrl.Relay.Artifacts;
using Bctrl.Relay.Observation;
using BenchmarkDotNet.Attributes;

namespace Bctrl.Relay.Benchmarks;

/// <summary>
/// The sampler as the pumps call it (docs/design.md §6, issue 4): an event that the sampling rate leaves out must allocate
/// nothing; a command allocates only its record (the record object and its strings).
/// </summary>
[MemoryDiagnoser]
public class ObservationBenchmarks
{
    private static readonly byte[] Command = Encoding.UTF8.GetBytes(
        """{"id":41,"method":"Page.navigate","params":{"url":"http://127.0.0.1:8080/index.html","transitionType":"typed"},"sessionId":"1F973A186EFE62E06CBD45A5BD6EC3EC"}""");

    private static readonly byte[] Result = Encoding.UTF8.GetBytes(
        """{"id":41,"result":{"frameId":"1F973A186EFE62E06CBD45A5BD6EC3EC","loaderId":"7A1B2C3D4E5F"},"sessionId":"1F973A186EFE62E06CBD45A5BD6EC3EC"}""");

    private static readonly byte[] Event = Encoding.UTF8.GetBytes(
        """{"method":"Network.dataReceived","params":{"requestId":"1000.42","timestamp":1234.5,"dataLength":4096,"encodedDataLength":0},"sessionId":"1F973A186EFE62E06CBD45A5BD6EC3EC"}""");

    private AttachObserver _unsampled = null!;
    private AttachObserver _sampled = null!;
    private AttachObserver _keepingArtifacts = null!;

    [GlobalSetup]
    public void Setup()
    {
        var sink = new DiscardingSink();
        _unsampled = new AttachObserver("bench", Guid.NewGuid(), 1, ObservationSettings.Default with { EventSampleRate = 0 }, sink, TimeProvider.System);
        _sampled = new AttachObserver("bench", Guid.NewGuid(), 2, ObservationSettings.Default, sink, TimeProvider.System);
        _keepingArtifacts = new AttachObserver(
            "bench", Guid.NewGuid(), 3, ObservationSettings.Default, sink, TimeProvider.System, new ArtifactCapture(new NoArtifacts(), ArtifactSettings.Default));
    }

    [Benchmark(Description = "peek only: CdpPeek.TryRead of a command")]
    public bool Peek() => CdpPeek.TryRead(Command, isWholeMessage: true, out _);

    [Benchmark(Description = "unsampled event (rate 0)")]
    public void UnsampledEvent() => _unsampled.OnRuntimeMessage(Event, Event.Length, isWholeMessage: true);

    [Benchmark(Description = "sampled command and its result")]
    public void SampledCommandAndResult()
    {
        _sampled.OnClientMessage(Command, Command.Length, isWholeMessage: true);
        _sampled.OnRuntimeMessage(Result, Result.Length, isWholeMessage: true);
    }

    /// <summary>
    /// The same on a lease that keeps artifacts (docs/artifacts.md): what every command and result that holds no
    /// artifact pays for the sampler's look at it. Against <see cref="SampledCommandAndResult"/>.
    /// </summary>
    [Benchmark(Description = "sampled command and its result, lease keeping artifacts")]
    public void SampledCommandAndResultKeepingArtifacts()
    {
        _keepingArtifacts.OnClientMessage(Command, Command.Length, isWholeMessage: true);
        _keepingArtifacts.OnRuntimeMessage(Result, Result.Length, isWholeMessage: true);
    }

    private sealed class NoArtifacts : Bctrl.Relay.Artifacts.IArtifactSink
    {
        public bool TryTake(Bctrl.Relay.Artifacts.CapturedMessage message) => throw new InvalidOperationException("A navigation holds no artifact.");

        public void CountLost(string reason) => throw new InvalidOperationException("A navigation holds no artifact.");

        public bool TryReserve(long bytes) => throw new InvalidOperationException("A navigation holds no artifact.");

        public void Unreserve(long bytes) => throw new InvalidOperationException("A navigation holds no artifact.");
    }

    private sealed class DiscardingSink : IRecordSink
    {
        public bool TryWrite(ObservationRecord record) => true;

        public void CommandCompleted(string domain, TimeSpan roundTrip)
        {
        }
    }
}
