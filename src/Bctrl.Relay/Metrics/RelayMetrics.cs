using System.Diagnostics.Metrics;
using Bctrl.Relay.Attach;
using Bctrl.Relay.Splice;
using Bctrl.Relay.State;

namespace Bctrl.Relay.Metrics;

/// <summary>
/// The relay's one <see cref="Meter"/>, <c>Bctrl.Relay</c> (docs/design.md §7). Tags are low-cardinality only: never a lease,
/// connection, runtime or target id. Per-frame counts live in each splice's own fields and are summed here by
/// observable instruments when scraped, so the hot path never calls <c>Counter.Add</c>.
/// </summary>
internal sealed class RelayMetrics
{
    public const string MeterName = "Bctrl.Relay";

    private static readonly KeyValuePair<string, object?> ClientToRuntime = new("direction", "client_to_runtime");
    private static readonly KeyValuePair<string, object?> RuntimeToClient = new("direction", "runtime_to_client");

    private readonly AttachRegistry _registry;
    private readonly Counter<long> _attempts;
    private readonly Counter<long> _discoveryRefusals;
    private readonly Counter<long> _closes;
    private readonly Counter<long> _refusedCommands;
    private readonly Histogram<double> _setup;

    // Totals of attaches that have ended; live attaches are added at scrape time.
    private readonly Lock _retireLock = new();
    private TrafficCount _retiredFromClient;
    private TrafficCount _retiredFromRuntime;

    public RelayMetrics(IMeterFactory meterFactory, AttachRegistry registry, IRevocationView revocations, TimeProvider time)
    {
        _registry = registry;
        var created = time.GetTimestamp();
        Meter = meterFactory.Create(MeterName);
        _attempts = Meter.CreateCounter<long>("bctrl.relay.attach.attempts", "{attach}", "Attach attempts by result: opened, or the refusal's error code.");
        // An instrument of its own rather than a tag on the attempts: a discovery request is no attach, and the alerts
        // divide refused attempts by all attempts (deploy/prometheus/alerts.yml), which discovery must not skew. Its
        // only tag is the refusal's code, the same dozen literals as the attempts' result.
        _discoveryRefusals = Meter.CreateCounter<long>("bctrl.relay.discovery.refusals", "{request}", "Discovery requests refused before the runtime was asked, by the refusal's error code.");
        _refusedCommands = Meter.CreateCounter<long>("bctrl.relay.commands.refused", "{command}",
            "CDP commands the relay answered instead of the runtime, by reason: policy (docs/policy.md) or rate (docs/quotas.md); counted when their attach ends.");
        _closes = Meter.CreateCounter<long>("bctrl.relay.attach.closes", "{attach}", "Ended attaches by reason and the close code the client got (0: pass-through or none).");
        _setup = Meter.CreateHistogram<double>("bctrl.relay.attach.setup.duration", "s", "From the upgrade request to the client's 101: lease check, runtime dial and handshake.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        // Prometheus's info-metric idiom: one series of value 1 whose label says which build runs (docs/operations.md).
        Meter.CreateObservableGauge("bctrl.relay.build_info", () => new Measurement<int>(1, new KeyValuePair<string, object?>("version", Hosting.RelayVersion.Informational)),
            description: "The relay's build: always 1, with its informational version as the label version.");
        Meter.CreateObservableUpDownCounter("bctrl.relay.attach.live", () => _registry.LiveCount, "{attach}", "Attaches splicing now.");
        // A view never confirmed (Redis down since the start) is as old as the node: a finite number that still alerts.
        Meter.CreateObservableGauge("bctrl.relay.revocations.age", () => (revocations.Age == TimeSpan.MaxValue ? time.GetElapsedTime(created) : revocations.Age).TotalSeconds,
            "s", "Age of the node's revocation view: time since it was last confirmed complete (0 in memory). Above Relay:Revocations:MaxStaleness, attaches are refused.");
        Meter.CreateObservableCounter("bctrl.relay.io", () => Observe(static count => count.Bytes), "By", "Bytes relayed, by direction.");
        Meter.CreateObservableCounter("bctrl.relay.frames", () => Observe(static count => count.Frames), "{frame}", "WebSocket frames relayed, by direction.");
        Meter.CreateObservableCounter("bctrl.relay.messages", () => Observe(static count => count.Messages), "{message}", "WebSocket data messages relayed, by direction.");
        Meter.CreateObservableUpDownCounter("bctrl.relay.buffered", ObserveBuffered, "By",
            "Bytes the relay holds for a peer that is not reading (a blocked send or flush), by the direction they travel.");
    }

    public Meter Meter { get; }

    public void AttachAttempted(string result) => _attempts.Add(1, new KeyValuePair<string, object?>("result", result));

    public void DiscoveryRefused(string code) => _discoveryRefusals.Add(1, new KeyValuePair<string, object?>("result", code));

    public void AttachSetUp(TimeSpan elapsed) => _setup.Record(elapsed.TotalSeconds);

    /// <summary>
    /// Moves an ended attach's counts into the retired totals and takes it out of the registry in one step, under the
    /// lock the scrape takes too, so that no scrape counts it twice or not at all (counters never go backwards).
    /// Taken once per attach and once per scrape, never per frame.
    /// </summary>
    public void AttachEnded(LiveAttach attach, AttachSummary summary)
    {
        lock (_retireLock)
        {
            _retiredFromClient += summary.FromClient;
            _retiredFromRuntime += summary.FromRuntime;
            _registry.Remove(attach);
        }

        _closes.Add(1, new KeyValuePair<string, object?>("reason", Observation.ReasonNames.Of(summary.Reason)), new KeyValuePair<string, object?>("code", (int)summary.SentToClient.Code));
        var (byPolicy, byRate) = attach.Splice.CommandsRefused;
        if (byPolicy > 0)
        {
            _refusedCommands.Add(byPolicy, new KeyValuePair<string, object?>("reason", "policy"));
        }

        if (byRate > 0)
        {
            _refusedCommands.Add(byRate, new KeyValuePair<string, object?>("reason", "rate"));
        }
    }

    private Measurement<long>[] ObserveBuffered()
    {
        long toRuntime = 0;
        long toClient = 0;
        foreach (var attach in _registry.Live)
        {
            toRuntime += attach.Splice.HeldForRuntime;
            toClient += attach.Splice.HeldForClient;
        }

        return [new(toRuntime, ClientToRuntime), new(toClient, RuntimeToClient)];
    }

    /// <summary>One of the three counts (<paramref name="count"/> picks it), retired plus live, by direction.</summary>
    private Measurement<long>[] Observe(Func<TrafficCount, long> count)
    {
        lock (_retireLock)
        {
            var fromClient = count(_retiredFromClient);
            var fromRuntime = count(_retiredFromRuntime);
            foreach (var attach in _registry.Live)
            {
                fromClient += count(attach.Splice.FromClient);
                fromRuntime += count(attach.Splice.FromRuntime);
            }

            return [new(fromClient, ClientToRuntime), new(fromRuntime, RuntimeToClient)];
        }
    }
}
