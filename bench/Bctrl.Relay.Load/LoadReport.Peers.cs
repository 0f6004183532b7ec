using System.Globalization;
using System.Text;

namespace Bctrl.Relay.Load;

/// <summary>Each relay against nginx and HAProxy, figure by figure, with issue 9's targets; and the round-trip latency table.</summary>
internal sealed partial class LoadReport
{
    private const string AgainstBetterPeer = "≤ 1.00 × better peer";

    /// <summary>
    /// Issue 9's targets for the figures that have one: the relay's median over the better peer's (idle memory: over
    /// HAProxy's, at both sizes). Every throughput scenario's CPU per GB has the target <see cref="AgainstBetterPeer"/> too.
    /// </summary>
    private static readonly Dictionary<string, FigureTarget> s_targets = new(StringComparer.Ordinal)
    {
        ["rt-256b-16"] = new(1.0, "≥ 1.00 × better peer (aim 1.15)"),
        ["rt-600b-64"] = new(1.0, "≥ 1.00 × better peer (aim 1.15)"),
        ["echo-1mib-4"] = new(1.25, "≥ 1.25 × better peer"),
        ["stream-1mib-2"] = new(1.25, "≥ 1.25 × better peer"),
        ["attach-8"] = new(1.0, "≥ 1.00 × better peer"),
        ["idle"] = new(1.0, "≤ 1.00 × haproxy", HaProxy),
        [Scenario.ManyIdleName] = new(1.0, "≤ 1.00 × haproxy", HaProxy),
        ["p99:rt-256b-16"] = new(1.0, AgainstBetterPeer),
    };

    /// <summary>The scenario's own figure (throughput, attach rate, idle memory).</summary>
    private Figure ValueFigure(Scenario scenario)
        => new(scenario.Title, scenario.LowerIsBetter, t => MedianValue(scenario, t), s_targets.GetValueOrDefault(scenario.Name));

    /// <summary>Proxy CPU seconds per GB in a throughput scenario (lower is better).</summary>
    private Figure CpuFigure(Scenario scenario)
        => new("CPU s/GB, " + scenario.Title, LowerIsBetter: true, t => MedianCpuPerGB(scenario, t), new(1.0, AgainstBetterPeer));

    /// <summary>The 99th percentile of round-trip latency in a round-trip scenario (lower is better).</summary>
    private Figure LatencyFigure(Scenario scenario)
        => new("p99 latency, " + scenario.Title, LowerIsBetter: true, t => MedianLatency(scenario, t, p99: true), s_targets.GetValueOrDefault("p99:" + scenario.Name));

    /// <summary>The better of nginx and HAProxy on <paramref name="figure"/>: the higher value, or the lower where lower is better.</summary>
    private static (string Name, double Value)? BestPeer(Figure figure)
    {
        var values = new[] { Nginx, HaProxy }
            .Select(p => (Name: p, Value: figure.Value(p)))
            .Where(p => p.Value is not null)
            .Select(p => (p.Name, Value: p.Value!.Value))
            .ToArray();
        if (values.Length == 0)
        {
            return null;
        }

        return figure.LowerIsBetter ? values.MinBy(v => v.Value) : values.MaxBy(v => v.Value);
    }

    /// <summary><paramref name="target"/>'s value over the one its target names: the better peer's, or a named peer's.</summary>
    private static double? Ratio(Figure figure, string target)
        => Divide(figure.Value(target), figure.Target?.Against is { } peer ? figure.Value(peer) : BestPeer(figure)?.Value);

    private static bool? Met(Figure figure, string target)
        => figure.Target is { } bound && Ratio(figure, target) is { } ratio
            ? figure.LowerIsBetter ? ratio <= bound.Bound : ratio >= bound.Bound
            : null;

    /// <summary>
    /// Each relay against nginx, HAProxy and the better of the two: every scenario's figure, then proxy CPU per GB for each
    /// throughput scenario and p99 latency for each round-trip scenario, with issue 9's target and whether it is met.
    /// </summary>
    private void AppendPeers(StringBuilder text, IReadOnlyList<string> columns)
    {
        // relay-tls against plain peers would charge TLS to the relay: it has its own block against nginx-tls (AppendTls).
        var relaysRun = columns.Where(c => c.StartsWith("relay-", StringComparison.Ordinal) && c != RelayTls).ToArray();
        if (relaysRun.Length == 0 || !columns.Any(c => c is Nginx or HaProxy))
        {
            return;
        }

        var figures = options.Scenarios.Select(ValueFigure)
            .Concat(options.Scenarios.Where(s => s.IsThroughput).Select(CpuFigure))
            .Concat(options.Scenarios.Where(s => s.Kind == ScenarioKind.RoundTrip).Select(LatencyFigure))
            .ToArray();
        text.AppendLine()
            .AppendLine("Against the peers (issue 9): each relay's median over nginx's, HAProxy's and the better one's. Throughput and attach")
            .AppendLine("rate: higher is better; idle memory, CPU per GB and p99 latency: lower is better (the better peer is then the lower).")
            .AppendLine();
        foreach (var relay in relaysRun)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{relay + ":",-48} {"/nginx",7} {"/haproxy",9} {"better peer",12} {"/better",8} {"issue 9 target",32} {"met",4}");
            foreach (var figure in figures)
            {
                var best = BestPeer(figure);
                var met = Met(figure, relay);
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"{"  " + figure.Title,-48} {Fixed(Divide(figure.Value(relay), figure.Value(Nginx))),7} {Fixed(Divide(figure.Value(relay), figure.Value(HaProxy))),9} {best?.Name ?? "-",12} {Fixed(Divide(figure.Value(relay), best?.Value)),8} {figure.Target?.Text ?? "-",32} {(met is null ? "-" : met.Value ? "yes" : "NO"),4}");
            }
        }
    }

    /// <summary>
    /// Round-trip latency per round-trip scenario and target: the medians over the rounds of each window's p50 and p99,
    /// and the p99 over the better peer's (lower is better).
    /// </summary>
    private void AppendLatency(StringBuilder text, IReadOnlyList<string> columns)
    {
        var scenarios = options.Scenarios.Where(s => s.Kind == ScenarioKind.RoundTrip).ToArray();
        if (scenarios.Length == 0)
        {
            return;
        }

        text.AppendLine()
            .AppendLine("Round-trip latency in µs, send to the answer's last byte: p50 / p99 (medians over the rounds of each window's")
            .AppendLine("percentiles); in parentheses p99 over the better peer's p99 (lower is better).")
            .AppendLine();
        text.Append(CultureInfo.InvariantCulture, $"{"scenario",-36}");
        foreach (var column in columns)
        {
            text.Append(CultureInfo.InvariantCulture, $" {column,24}");
        }

        text.AppendLine();
        foreach (var scenario in scenarios)
        {
            var figure = LatencyFigure(scenario);
            text.Append(CultureInfo.InvariantCulture, $"{scenario.Title,-36}");
            foreach (var column in columns)
            {
                var p50 = MedianLatency(scenario, column, p99: false);
                var p99 = MedianLatency(scenario, column, p99: true);
                var ratio = Divide(p99, BestPeer(figure)?.Value);
                var cell = p50 is null || p99 is null
                    ? Ran(scenario, column) ? "failed" : "-"
                    : string.Create(CultureInfo.InvariantCulture, $"{p50:#,0} / {p99:#,0}{(ratio is null ? string.Empty : $" ({ratio:0.00})")}");
                text.Append(CultureInfo.InvariantCulture, $" {cell,24}");
            }

            text.AppendLine();
        }
    }

    /// <summary>A bound on a relay's ratio, against the better peer or against <paramref name="Against"/>.</summary>
    private sealed record FigureTarget(double Bound, string Text, string? Against = null);

    /// <summary>One figure compared across targets: its title, direction, median per target and issue 9's target.</summary>
    private sealed record Figure(string Title, bool LowerIsBetter, Func<string, double?> Value, FigureTarget? Target);
}
