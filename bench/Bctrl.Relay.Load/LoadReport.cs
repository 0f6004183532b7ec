using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Bctrl.Relay.Load;

/// <summary>
/// Medians per scenario and target, ratios to direct, proxy CPU per GB, round-trip latency, each relay against the
/// peers (LoadReport.Peers.cs), recording on against off (relay-pipes against relay-norec) and the relay over TLS against
/// nginx over TLS (LoadReport.Tls.cs); printed as tables and written as JSON.
/// </summary>
internal sealed partial class LoadReport(
    LoadOptions options,
    IReadOnlyList<string> targets,
    IReadOnlyList<RunSample> samples,
    IReadOnlyDictionary<string, RelayProcess> relays,
    IReadOnlyDictionary<string, PeerProcess> peers,
    IReadOnlyDictionary<string, SamplerCounts?> samplers,
    FakeRuntime runtime,
    DateTimeOffset startedAt,
    string relayDll,
    bool cancelled,
    string? sourceVersion)
{
    private const string Direct = RelaySetup.Direct;
    private const string RecordingOn = "relay-pipes";
    private const string RecordingOff = "relay-norec";
    private const string PolicyOn = "relay-policy";
    private const string Stream = "relay-stream";
    private const string Nginx = "nginx";
    private const string HaProxy = "haproxy";
    private const string RelayTls = "relay-tls";
    private const string NginxTls = "nginx-tls";

    /// <summary>Pairs of relay targets whose CPU per GB is compared: (numerator, denominator, heading).</summary>
    private static readonly (string Of, string To, string Title)[] s_cpuRatios =
    [
        (Stream, RecordingOn, "stream/pipes"),
        (RecordingOn, RecordingOff, "rec on/off"),
        (PolicyOn, RecordingOn, "policy/none"),
    ];

    /// <summary>
    /// The same relay with a feature on and off, each compared in its own block: (on, off, the block's heading, its JSON
    /// property). Recording (on by default, relay-norec off) and a lease policy (issue 11: relay-policy's leases carry
    /// one, relay-pipes' do not; target ≥ 0.95 on small round trips).
    /// </summary>
    private static readonly (string On, string Off, string Title, string Json)[] s_onOff =
    [
        (RecordingOn, RecordingOff, "Recording on", "recording"),
        (PolicyOn, RecordingOn, "A lease policy (noBrowserControl) on", "policy"),
    ];

    private readonly Dictionary<string, RelayOutput.Snapshot> _relayOutput = relays.ToDictionary(r => r.Key, r => r.Value.Output.Read());

    private readonly Dictionary<string, (int Lines, IReadOnlyList<string> Tail)> _peerOutput = peers.ToDictionary(p => p.Key, p => (p.Value.OutputLines, p.Value.Tail()));

    public bool HasProblems => cancelled || samples.Any(s => s.Errors > 0 || s.Failed) || runtime.Errors > 0 || _relayOutput.Values.Any(o => o.Errors > 0)
        || _peerOutput.Values.Any(o => o.Tail.Any(IsPeerProblem));

    /// <summary>What each TLS target negotiated with the tool's client (<c>Tls13 TLS_AES_256_GCM_SHA384</c>), by target name.</summary>
    public IReadOnlyDictionary<string, string> Negotiated { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public static string TargetName(string shortName) => shortName == Direct || PeerSetup.Find(shortName) is not null ? shortName : "relay-" + shortName;

    /// <summary>nginx's error log holds only errors (level <c>error</c>); HAProxy prints alerts on failures, warnings otherwise.</summary>
    private static bool IsPeerProblem(string line) => line.Contains("[error]", StringComparison.Ordinal) || line.Contains("[crit]", StringComparison.Ordinal)
        || line.Contains("[alert]", StringComparison.Ordinal) || line.Contains("[emerg]", StringComparison.Ordinal) || line.Contains("[ALERT]", StringComparison.Ordinal);

    public void Print(TextWriter output)
    {
        var text = new StringBuilder();
        text.AppendLine()
            .AppendLine(CultureInfo.InvariantCulture,
                $"Medians of {(cancelled ? "the windows done before the run was cancelled, of " : string.Empty)}{options.Rounds} rounds, {options.Measure.TotalSeconds:0.#} s each after {options.Warmup.TotalSeconds:0.#} s of warm-up; ratio to direct in parentheses. Idle: proxy RSS growth per attach held (lower is better).")
            .AppendLine();
        var columns = targets.Select(TargetName).ToArray();
        text.Append(CultureInfo.InvariantCulture, $"{"scenario",-36} {"unit",-6}");
        foreach (var column in columns)
        {
            text.Append(CultureInfo.InvariantCulture, $" {column,18}");
        }

        text.AppendLine();
        foreach (var scenario in options.Scenarios)
        {
            text.Append(CultureInfo.InvariantCulture, $"{scenario.Title,-36} {scenario.Unit,-6}");
            foreach (var column in columns)
            {
                var median = MedianValue(scenario, column);
                var ratio = Ratio(scenario, column);
                var cell = scenario.Kind == ScenarioKind.Idle && column == Direct
                    ? "n/a"
                    : median is null ? (Ran(scenario, column) ? "failed" : "-") : Format(scenario, median.Value) + (column == Direct || ratio is null ? string.Empty : $" ({ratio:0.00})");
                text.Append(CultureInfo.InvariantCulture, $" {cell,18}");
            }

            text.AppendLine();
        }

        var relayColumns = columns.Where(c => c != Direct).ToArray();
        if (relayColumns.Length > 0 && options.Scenarios.Any(s => s.IsThroughput || s.Kind == ScenarioKind.AttachRate))
        {
            text.AppendLine()
                .AppendLine("Proxy CPU seconds per GB relayed (median; GB = 10^9 payload bytes crossing the proxy, both ways summed; nginx: master and workers summed).")
                .AppendLine();
            text.Append(CultureInfo.InvariantCulture, $"{"scenario",-36}");
            foreach (var column in relayColumns)
            {
                text.Append(CultureInfo.InvariantCulture, $" {column,14}");
            }

            var ratios = s_cpuRatios.Where(r => relayColumns.Contains(r.Of) && relayColumns.Contains(r.To)).ToArray();
            foreach (var ratio in ratios)
            {
                text.Append(CultureInfo.InvariantCulture, $" {ratio.Title,14}");
            }

            text.AppendLine();
            foreach (var scenario in options.Scenarios.Where(s => s.IsThroughput))
            {
                text.Append(CultureInfo.InvariantCulture, $"{scenario.Title,-36}");
                foreach (var column in relayColumns)
                {
                    text.Append(CultureInfo.InvariantCulture, $" {Fixed(MedianCpuPerGB(scenario, column)),14}");
                }

                foreach (var ratio in ratios)
                {
                    text.Append(CultureInfo.InvariantCulture, $" {Fixed(Divide(MedianCpuPerGB(scenario, ratio.Of), MedianCpuPerGB(scenario, ratio.To))),14}");
                }

                text.AppendLine();
            }

            text.Append(CultureInfo.InvariantCulture, $"{"all scenarios (pooled)",-36}");
            foreach (var column in relayColumns)
            {
                text.Append(CultureInfo.InvariantCulture, $" {Fixed(PooledCpuPerGB(column)),14}");
            }

            foreach (var ratio in ratios)
            {
                text.Append(CultureInfo.InvariantCulture, $" {Fixed(Divide(PooledCpuPerGB(ratio.Of), PooledCpuPerGB(ratio.To))),14}");
            }

            text.AppendLine();
            foreach (var scenario in options.Scenarios.Where(s => s.Kind == ScenarioKind.AttachRate))
            {
                text.Append(CultureInfo.InvariantCulture, $"{"attach rate: CPU µs per attach",-36}");
                foreach (var column in relayColumns)
                {
                    text.Append(CultureInfo.InvariantCulture, $" {Fixed(MedianCpuPerAttach(scenario, column), "0"),14}");
                }

                text.AppendLine();
            }
        }

        AppendLatency(text, columns);
        AppendPeers(text, columns);
        AppendTls(text, columns);
        foreach (var pair in s_onOff)
        {
            AppendOnOff(text, columns, pair.On, pair.Off, pair.Title);
        }
        AppendProblems(text);
        output.Write(text.ToString());
    }

    public void WriteJson(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("tool", "Bctrl.Relay.Load");
        json.WriteString("startedAt", startedAt);
        json.WriteString("arguments", string.Join(' ', options.Arguments));
        json.WriteBoolean("cancelled", cancelled);
        json.WriteStartObject("machine");
        json.WriteNumber("processors", Environment.ProcessorCount);
        json.WriteString("os", System.Runtime.InteropServices.RuntimeInformation.OSDescription);
        json.WriteString("runtime", System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription);
        json.WriteEndObject();
        json.WriteStartObject("settings");
        json.WriteNumber("rounds", options.Rounds);
        json.WriteNumber("seconds", options.Measure.TotalSeconds);
        json.WriteNumber("warmupSeconds", options.Warmup.TotalSeconds);
        json.WriteBoolean("warmupRound", options.WarmupRound);
        json.WriteNumber("maxOtherCores", options.MaxOtherCores);
        json.WriteNumber("retries", options.Retries);
        json.WriteString("relayDll", Path.GetRelativePath(Environment.CurrentDirectory, relayDll)); // no machine paths in results
        json.WriteString("relaySource", sourceVersion);
        json.WriteEndObject();

        json.WriteStartArray("scenarios");
        foreach (var scenario in options.Scenarios)
        {
            json.WriteStartObject();
            json.WriteString("name", scenario.Name);
            json.WriteString("title", scenario.Title);
            json.WriteString("unit", scenario.Unit);
            json.WriteNumber("messageBytes", scenario.MessageBytes);
            json.WriteNumber("attaches", scenario.Attaches);
            json.WriteBoolean("lowerIsBetter", scenario.LowerIsBetter);
            if (BestPeer(ValueFigure(scenario)) is { } best)
            {
                json.WriteString("betterPeer", best.Name);
            }

            if (s_targets.TryGetValue(scenario.Name, out var target9))
            {
                json.WriteString("issue9Target", target9.Text);
            }

            json.WriteStartObject("targets");
            foreach (var target in targets.Select(TargetName))
            {
                var mine = Ok(scenario, target).ToArray();
                json.WriteStartObject(target);
                WriteNullable(json, "median", MedianValue(scenario, target));
                WriteNullable(json, "ratioToDirect", scenario.Kind == ScenarioKind.Idle ? null : Ratio(scenario, target));
                // The plain peers are no measure for relay-tls: it is compared with nginx-tls in "tls".
                if (target.StartsWith("relay-", StringComparison.Ordinal) && target != RelayTls)
                {
                    WriteNullable(json, "ratioToNginx", Divide(MedianValue(scenario, target), MedianValue(scenario, Nginx)));
                    WriteNullable(json, "ratioToHaproxy", Divide(MedianValue(scenario, target), MedianValue(scenario, HaProxy)));
                    WriteNullable(json, "ratioToBetterPeer", Divide(MedianValue(scenario, target), BestPeer(ValueFigure(scenario))?.Value));
                    WriteMet(json, "issue9Met", Met(ValueFigure(scenario), target));
                    if (scenario.IsThroughput)
                    {
                        WriteNullable(json, "cpuPerGBRatioToBetterPeer", Ratio(CpuFigure(scenario), target));
                        WriteMet(json, "cpuPerGBIssue9Met", Met(CpuFigure(scenario), target));
                    }

                    if (scenario.Kind == ScenarioKind.RoundTrip)
                    {
                        WriteNullable(json, "latencyP99RatioToBetterPeer", Ratio(LatencyFigure(scenario), target));
                        WriteMet(json, "latencyP99Issue9Met", Met(LatencyFigure(scenario), target));
                    }
                }

                json.WriteStartArray("values");
                foreach (var sample in mine)
                {
                    json.WriteNumberValue(Math.Round(sample.Value(scenario), 3));
                }

                json.WriteEndArray();
                if (scenario.Kind == ScenarioKind.RoundTrip)
                {
                    WriteNullable(json, "latencyP50MicrosecondsMedian", MedianLatency(scenario, target, p99: false));
                    WriteNullable(json, "latencyP99MicrosecondsMedian", MedianLatency(scenario, target, p99: true));
                    json.WriteStartArray("latencyP99Microseconds");
                    foreach (var sample in mine)
                    {
                        if (sample.LatencyP99Microseconds is { } p99)
                        {
                            json.WriteNumberValue(Math.Round(p99, 1));
                        }
                    }

                    json.WriteEndArray();
                }

                if (target != Direct && scenario.Kind == ScenarioKind.AttachRate)
                {
                    WriteNullable(json, "cpuMicrosecondsPerAttachMedian", MedianCpuPerAttach(scenario, target));
                }

                if (target != Direct && scenario.IsThroughput)
                {
                    WriteNullable(json, "cpuSecondsPerGBMedian", MedianCpuPerGB(scenario, target));
                    json.WriteStartArray("cpuSecondsPerGB");
                    foreach (var sample in mine)
                    {
                        if (sample.CpuSecondsPerGB is { } cpu)
                        {
                            json.WriteNumberValue(Math.Round(cpu, 4));
                        }
                    }

                    json.WriteEndArray();
                }

                json.WriteNumber("failedRuns", samples.Count(s => s.Scenario == scenario.Name && s.Target == target && s.Failed));
                json.WriteNumber("errors", samples.Where(s => s.Scenario == scenario.Name && s.Target == target).Sum(s => s.Errors));
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();

        foreach (var pair in s_onOff)
        {
            WriteOnOffJson(json, pair.On, pair.Off, pair.Json);
        }
        WriteTlsJson(json);

        json.WriteStartObject("relays");
        foreach (var (name, relay) in relays)
        {
            var output = _relayOutput[name];
            json.WriteStartObject(name);
            json.WriteString("transport", relay.Setup.Listener);
            json.WriteString("clientTransport", relay.Transport);
            json.WriteBoolean("recording", relay.Setup.Recording);
            json.WriteBoolean("tls", relay.Setup.Tls);
            if (samplers.GetValueOrDefault(name) is { } counts)
            {
                json.WriteStartObject("sampler");
                json.WriteNumber("clientMessages", counts.ClientMessages);
                json.WriteNumber("commandsTimed", counts.CommandsTimed);
                json.WriteNumber("recordsDropped", counts.RecordsDropped);
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("sampler");
            }

            WriteNullable(json, "cpuSecondsPerGBPooled", PooledCpuPerGB(name));
            json.WriteNumber("logWarnings", output.Warnings);
            json.WriteNumber("logErrors", output.Errors);
            WriteCounts(json, "attachCloseReasons", output.CloseReasons);
            WriteCounts(json, "spliceTransports", output.Transports);
            json.WriteStartArray("logProblems");
            foreach (var problem in output.Problems)
            {
                json.WriteStringValue(problem);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndObject();

        json.WriteStartObject("peers");
        foreach (var (name, peer) in peers)
        {
            json.WriteStartObject(name);
            json.WriteString("binary", peer.BinaryPath);
            json.WriteString("version", peer.Version);
            json.WriteNumber(peer.Setup.IsNginx ? "workerProcesses" : "nbthread", peer.Workers);
            json.WriteBoolean("tls", peer.Setup.Tls);
            json.WriteString("config", peer.Config);
            WriteNullable(json, "cpuSecondsPerGBPooled", PooledCpuPerGB(name));
            json.WriteNumber("outputLines", _peerOutput[name].Lines);
            json.WriteStartArray("outputTail");
            foreach (var line in _peerOutput[name].Tail)
            {
                json.WriteStringValue(line);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndObject();

        json.WriteStartObject("fakeRuntime");
        json.WriteNumber("errors", runtime.Errors);
        json.WriteString("firstError", runtime.FirstError);
        json.WriteEndObject();

        json.WriteStartArray("runs");
        foreach (var sample in samples)
        {
            json.WriteStartObject();
            json.WriteNumber("round", sample.Round);
            json.WriteString("scenario", sample.Scenario);
            json.WriteString("target", sample.Target);
            json.WriteBoolean("failed", sample.Failed);
            json.WriteNumber("attempts", sample.Attempts);
            json.WriteNumber("seconds", Math.Round(sample.Seconds, 4));
            json.WriteNumber("messages", sample.Messages);
            json.WriteNumber("payloadBytes", sample.PayloadBytes);
            json.WriteNumber("relayedBytes", sample.RelayedBytes);
            WriteNullable(json, "relayCpuSeconds", sample.RelayCpuSeconds);
            if (sample.RssBeforeBytes is not null || sample.RssAfterBytes is not null)
            {
                WriteNullable(json, "rssBeforeBytes", sample.RssBeforeBytes);
                WriteNullable(json, "rssAfterBytes", sample.RssAfterBytes);
            }

            if (sample.LatencyP99Microseconds is not null)
            {
                WriteNullable(json, "latencyP50Microseconds", sample.LatencyP50Microseconds);
                WriteNullable(json, "latencyP99Microseconds", sample.LatencyP99Microseconds);
            }

            if (sample.EndpointSeconds is { } endpointSeconds)
            {
                json.WriteNumber("endpointSeconds", Math.Round(endpointSeconds, 4));
            }
            json.WriteNumber("loadToolCpuSeconds", Math.Round(sample.LoadCpuSeconds, 3));
            json.WriteNumber("idleRelaysCpuSeconds", Math.Round(sample.IdleRelayCpuSeconds, 3));
            WriteNullable(json, "otherProcessesCpuSeconds", sample.ForeignCpuSeconds);
            json.WriteNumber("errors", sample.Errors);
            json.WriteString("firstError", sample.FirstError);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>
    /// <paramref name="property"/> (<c>recording</c>, <c>policy</c>): per scenario, <paramref name="on"/> against
    /// <paramref name="off"/>; absent unless both ran.
    /// </summary>
    private void WriteOnOffJson(Utf8JsonWriter json, string on, string off, string property)
    {
        var names = targets.Select(TargetName).ToArray();
        if (!names.Contains(on) || !names.Contains(off))
        {
            return;
        }

        json.WriteStartObject(property);
        json.WriteString("on", on);
        json.WriteString("off", off);
        json.WriteStartObject("scenarios");
        foreach (var scenario in options.Scenarios)
        {
            json.WriteStartObject(scenario.Name);
            WriteNullable(json, "onOffRatioOfMedians", Divide(MedianValue(scenario, on), MedianValue(scenario, off)));
            var paired = PairedRatios(scenario, on, off, s => s.Value(scenario));
            WriteNullable(json, "onOffPairedRatioMedian", Stats.Median(paired));
            WriteRatios(json, "onOffPairedRatios", paired);
            WriteNullable(json, "cpuPerGBOnOffRatio", Divide(MedianCpuPerGB(scenario, on), MedianCpuPerGB(scenario, off)));
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private bool Ran(Scenario scenario, string target) => samples.Any(s => s.Scenario == scenario.Name && s.Target == target);

    private IEnumerable<RunSample> Ok(Scenario scenario, string target)
        => samples.Where(s => s.Scenario == scenario.Name && s.Target == target && !s.Failed);

    private double? MedianValue(Scenario scenario, string target) => Stats.Median(Ok(scenario, target).Select(s => s.Value(scenario)));

    private double? Ratio(Scenario scenario, string target)
        => MedianValue(scenario, target) is { } value && MedianValue(scenario, Direct) is { } direct && direct > 0 ? value / direct : null;

    private double? MedianCpuPerGB(Scenario scenario, string target)
        => Stats.Median(Ok(scenario, target).Where(s => s.CpuSecondsPerGB is not null).Select(s => s.CpuSecondsPerGB!.Value));

    private double? MedianLatency(Scenario scenario, string target, bool p99)
        => Stats.Median(Ok(scenario, target).Select(s => p99 ? s.LatencyP99Microseconds : s.LatencyP50Microseconds).OfType<double>());

    private double? PooledCpuPerGB(string target)
    {
        var throughput = options.Scenarios.Where(s => s.IsThroughput).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var mine = samples.Where(s => s.Target == target && !s.Failed && s.RelayCpuSeconds is not null && throughput.Contains(s.Scenario)).ToArray();
        var bytes = mine.Sum(s => s.RelayedBytes);
        return bytes > 0 ? mine.Sum(s => s.RelayCpuSeconds!.Value) / (bytes / RunSample.BytesPerGB) : null;
    }

    public static string Format(Scenario scenario, double value)
        => double.IsNaN(value) ? "n/a" : value.ToString(scenario.Kind switch
        {
            ScenarioKind.RoundTrip or ScenarioKind.AttachRate => "#,0",
            ScenarioKind.Idle => "0.00",
            _ => "#,0.0",
        }, CultureInfo.InvariantCulture);

    private double? MedianCpuPerAttach(Scenario scenario, string target)
        => Stats.Median(Ok(scenario, target).Where(s => s.CpuMicrosecondsPerAttach is not null).Select(s => s.CpuMicrosecondsPerAttach!.Value));

    /// <summary>
    /// A feature on (<paramref name="on"/>) against off (<paramref name="off"/>), per scenario: the ratio of the medians,
    /// the median of the ratios paired within each round (both windows of a round ran minutes apart at most, so they
    /// share the machine's state), and relay CPU per GB; then each relay's sampler counts.
    /// </summary>
    private void AppendOnOff(StringBuilder text, IReadOnlyList<string> columns, string on, string off, string title)
    {
        if (!columns.Contains(on) || !columns.Contains(off))
        {
            return;
        }

        text.AppendLine()
            .AppendLine($"{title} ({on}) / off ({off}), same run: throughput (higher is better) and relay CPU per GB.")
            .AppendLine("\"paired\" is the median of the per-round ratios, with their range.")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture,
                $"{"scenario",-36} {"unit",-6} {"on",10} {"off",10} {"on/off",7} {"paired (min-max)",20} {"CPU s/GB on",12} {"off",8} {"on/off",7}");
        foreach (var scenario in options.Scenarios)
        {
            var onValue = MedianValue(scenario, on);
            var offValue = MedianValue(scenario, off);
            var paired = PairedRatios(scenario, on, off, s => s.Value(scenario));
            var pairedText = paired.Length == 0
                ? "-"
                : string.Create(CultureInfo.InvariantCulture, $"{Stats.Median(paired):0.000} ({paired.Min():0.00}-{paired.Max():0.00})");
            // CPU per GB means something only where bytes are the point (not for attach rate or idle memory).
            var cpuOn = scenario.IsThroughput ? MedianCpuPerGB(scenario, on) : null;
            var cpuOff = scenario.IsThroughput ? MedianCpuPerGB(scenario, off) : null;
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{scenario.Title,-36} {scenario.Unit,-6} {(onValue is null ? "-" : Format(scenario, onValue.Value)),10} {(offValue is null ? "-" : Format(scenario, offValue.Value)),10} {Fixed(Divide(onValue, offValue), "0.000"),7} {pairedText,20} {Fixed(cpuOn),12} {Fixed(cpuOff),8} {Fixed(Divide(cpuOn, cpuOff), "0.000"),7}");
        }

        foreach (var name in new[] { on, off })
        {
            var counts = samplers.GetValueOrDefault(name);
            text.AppendLine(counts is null
                ? $"{name}: its /metrics could not be read."
                : string.Create(CultureInfo.InvariantCulture,
                    $"{name}: its sampler timed {counts.CommandsTimed:#,0} command round trips of {counts.ClientMessages:#,0} client messages relayed (whole run, warm-up included); {counts.RecordsDropped:#,0} records dropped."));
        }
    }

    /// <summary>Per round, <paramref name="of"/>'s value over <paramref name="to"/>'s, where both windows succeeded.</summary>
    private double[] PairedRatios(Scenario scenario, string of, string to, Func<RunSample, double> value)
        => Ok(scenario, of)
            .Join(Ok(scenario, to), s => s.Round, s => s.Round, (a, b) => Divide(value(a), value(b)))
            .OfType<double>()
            .ToArray();

    private static double? Divide(double? of, double? to) => of is { } a && to is { } b && b > 0 ? a / b : null;

    private static string Fixed(double? value, string format = "0.00")
        => value is null ? "-" : value.Value.ToString(format, CultureInfo.InvariantCulture);

    private void AppendProblems(StringBuilder text)
    {
        text.AppendLine();
        var idle = samples.Where(s => s.Seconds > 0).Select(s => s.IdleRelayCpuSeconds / s.Seconds).DefaultIfEmpty(0).Max();
        text.AppendLine(CultureInfo.InvariantCulture, $"Idle proxies used at most {idle * 100:0.0}% of a core while another target ran.");
        var foreign = samples.Where(s => s.Seconds > 0 && s.ForeignCpuSeconds is not null).Select(s => Math.Max(0, s.ForeignCpuSeconds!.Value) / s.Seconds).ToArray();
        if (foreign.Length > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"Other processes on the machine used {Stats.Median(foreign) * 100:0}% of a core in the median window, {foreign.Max() * 100:0}% at most (of {Environment.ProcessorCount * 100}%).");
            var rerun = samples.Count(s => s.Attempts > 1);
            if (rerun > 0)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"{rerun} window(s) were run again because other processes used more than {options.MaxOtherCores:0.##} core(s); the least disturbed attempt is kept.");
            }
        }

        foreach (var sample in samples.Where(s => s.Errors > 0 || s.Failed))
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"round {sample.Round} {sample.Scenario} {sample.Target}: {(sample.Failed ? "FAILED, " : string.Empty)}{sample.Errors} attach error(s), first: {sample.FirstError}");
        }

        if (runtime.Errors > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"fake runtime: {runtime.Errors} error(s), first: {runtime.FirstError}");
        }

        foreach (var (name, output) in _peerOutput)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{name}: {output.Lines} line(s) printed or logged{(output.Lines > 0 ? ", last: " + output.Tail[^1] : string.Empty)}");
        }

        foreach (var (name, output) in _relayOutput)
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}: {output.Warnings} warning(s), {output.Errors} error(s) logged; attaches closed: ");
            text.AppendLine(string.Join(", ", output.CloseReasons.OrderByDescending(c => c.Value).Select(c => $"{c.Key} ×{c.Value}")));
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{new string(' ', name.Length)}  spliced through: {string.Join(", ", output.Transports.Select(t => $"{t.Key} ×{t.Value}"))}");
            foreach (var problem in output.Problems)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"{new string(' ', name.Length)}  {problem}");
            }
        }
    }

    /// <summary>Paired per-round ratios as a JSON array, to four places.</summary>
    private static void WriteRatios(Utf8JsonWriter json, string name, IEnumerable<double> ratios)
    {
        json.WriteStartArray(name);
        foreach (var ratio in ratios)
        {
            json.WriteNumberValue(Math.Round(ratio, 4));
        }

        json.WriteEndArray();
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, Math.Round(number, 4));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteMet(Utf8JsonWriter json, string name, bool? met)
    {
        if (met is { } value)
        {
            json.WriteBoolean(name, value);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteCounts(Utf8JsonWriter json, string name, IReadOnlyDictionary<string, int> counts)
    {
        json.WriteStartObject(name);
        foreach (var (key, count) in counts)
        {
            json.WriteNumber(key, count);
        }

        json.WriteEndObject();
    }
}
