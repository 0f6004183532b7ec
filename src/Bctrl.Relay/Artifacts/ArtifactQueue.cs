using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Bctrl.Relay.Metrics;
using Bctrl.Relay.Options;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Artifacts;

/// <summary>
/// The queue between the splices' captures and the artifact pump, bounded by the bytes it holds and the bytes captures
/// in progress have reserved (<c>Relay:Artifacts:QueueBytes</c>): a capture that finds no room is lost and counted,
/// never waited for. It also
/// keeps the artifact counts the metrics read: stored by kind, lost by reason (docs/artifacts.md).
/// </summary>
internal sealed class ArtifactQueue : IArtifactSink
{
    private readonly Channel<CapturedMessage> _channel = Channel.CreateUnbounded<CapturedMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly long _capacity;
    private readonly long[] _stored = new long[ArtifactKinds.All.Count];
    private readonly long[] _lost = new long[ArtifactLoss.All.Count];
    private long _bytes;

    public ArtifactQueue(IOptions<RelayOptions> options, RelayMetrics metrics)
    {
        _capacity = options.Value.Artifacts.QueueBytes;
        var meter = metrics.Meter;
        meter.CreateObservableCounter("bctrl.relay.artifacts.stored", () => Measure(_stored, ArtifactKinds.All, "kind"), "{artifact}",
            "Artifacts stored, by kind: screenshot, pdf, screencastFrame, download.");
        meter.CreateObservableCounter("bctrl.relay.artifacts.lost", () => Measure(_lost, ArtifactLoss.All, "reason"), "{artifact}",
            "Artifacts lost, by reason: too_large, queue_full, unreadable, download_unreachable, store_failed.");
        meter.CreateObservableUpDownCounter("bctrl.relay.artifacts.queued", () => Volatile.Read(ref _bytes), "By",
            "Bytes of captured messages waiting for the artifact store, and reserved by captures in progress.");
    }

    public long QueuedBytes => Volatile.Read(ref _bytes);

    public bool TryReserve(long bytes)
    {
        if (Interlocked.Add(ref _bytes, bytes) > _capacity)
        {
            Interlocked.Add(ref _bytes, -bytes);
            CountLost(ArtifactLoss.QueueFull);
            return false;
        }

        return true;
    }

    public void Unreserve(long bytes) => Interlocked.Add(ref _bytes, -bytes);

    /// <summary>Takes a message whose room was reserved as it was captured: the reservations are the bound, so never refuses.</summary>
    public bool TryTake(CapturedMessage message) => _channel.Writer.TryWrite(message); // unbounded channel: always true

    public void CountLost(string reason) => Interlocked.Increment(ref _lost[IndexOf(ArtifactLoss.All, reason)]);

    public void CountStored(string kind) => Interlocked.Increment(ref _stored[IndexOf(ArtifactKinds.All, kind)]);

    public long Stored(string kind) => Volatile.Read(ref _stored[IndexOf(ArtifactKinds.All, kind)]);

    public long Lost(string reason) => Volatile.Read(ref _lost[IndexOf(ArtifactLoss.All, reason)]);

    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) => _channel.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>The next capture; its bytes leave the queue's count as it is taken.</summary>
    public bool TryRead([MaybeNullWhen(false)] out CapturedMessage message)
    {
        if (!_channel.Reader.TryRead(out message))
        {
            return false;
        }

        Interlocked.Add(ref _bytes, -message.Reserved);
        return true;
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == name)
            {
                return i;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(name), name, "Not a known artifact kind or loss reason.");
    }

    private static Measurement<long>[] Measure(long[] counts, IReadOnlyList<string> names, string tag)
    {
        var measurements = new Measurement<long>[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            measurements[i] = new Measurement<long>(Volatile.Read(ref counts[i]), new KeyValuePair<string, object?>(tag, names[i]));
        }

        return measurements;
    }
}
