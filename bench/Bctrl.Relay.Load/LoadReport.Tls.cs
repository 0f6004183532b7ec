using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Bctrl.Relay.Load;

/// <summary>
/// Issue 10's TLS comparison (bench/README.md, "Issue 10: TLS against nginx over TLS"): relay-tls over nginx-tls in each
/// throughput scenario, throughput and proxy CPU per GB, and each TLS target over its plain counterpart (relay-tls over
/// relay-pipes, nginx-tls over nginx), which is what TLS costs each of them.
/// </summary>
internal sealed partial class LoadReport
{
    /// <summary>Each TLS target and the plain target it adds TLS to.</summary>
    private static readonly (string Tls, string Plain)[] s_tlsPairs = [(RelayTls, RecordingOn), (NginxTls, Nginx)];

    private bool HasTlsComparison(IReadOnlyList<string> columns)
        => columns.Contains(RelayTls) && columns.Contains(NginxTls) && options.Scenarios.Any(s => s.IsThroughput);

    private void AppendTls(StringBuilder text, IReadOnlyList<string> columns)
    {
        if (!HasTlsComparison(columns))
        {
            return;
        }

        var negotiated = s_tlsPairs.Select(p => $"{p.Tls} {Negotiated.GetValueOrDefault(p.Tls) ?? "?"}");
        text.AppendLine()
            .AppendLine(CultureInfo.InvariantCulture,
                $"TLS (issue 10): {RelayTls} over {NginxTls}, one {LoadCertificates.KeyKind} certificate, the same clients; negotiated: {string.Join(", ", negotiated)}.")
            .AppendLine("Throughput, higher is better; \"paired\" is the median of the per-round ratios, with their range; TLS/plain is each")
            .AppendLine(CultureInfo.InvariantCulture, $"TLS target over its plain counterpart ({RelayTls} / {RecordingOn}, {NginxTls} / {Nginx}), \"-\" where that did not run.")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture,
                $"{"scenario",-36} {"unit",-6} {RelayTls,10} {NginxTls,10} {"relay/nginx",11} {"paired (min-max)",20} {"relay TLS/plain",15} {"nginx TLS/plain",15}");
        var scenarios = options.Scenarios.Where(s => s.IsThroughput).ToArray();
        foreach (var scenario in scenarios)
        {
            var relay = MedianValue(scenario, RelayTls);
            var nginx = MedianValue(scenario, NginxTls);
            var paired = PairedRatios(scenario, RelayTls, NginxTls, s => s.Value(scenario));
            var pairedText = paired.Length == 0
                ? "-"
                : string.Create(CultureInfo.InvariantCulture, $"{Stats.Median(paired):0.000} ({paired.Min():0.00}-{paired.Max():0.00})");
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{scenario.Title,-36} {scenario.Unit,-6} {(relay is null ? "-" : Format(scenario, relay.Value)),10} {(nginx is null ? "-" : Format(scenario, nginx.Value)),10} {Fixed(Divide(relay, nginx), "0.000"),11} {pairedText,20} {Fixed(Divide(relay, MedianValue(scenario, RecordingOn)), "0.000"),15} {Fixed(Divide(nginx, MedianValue(scenario, Nginx)), "0.000"),15}");
        }

        text.AppendLine()
            .AppendLine("Proxy CPU seconds per GB relayed over TLS (median), lower is better; TLS/plain as above.")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture,
                $"{"scenario",-36} {RelayTls,10} {NginxTls,10} {"relay/nginx",11} {"relay TLS/plain",15} {"nginx TLS/plain",15}");
        foreach (var scenario in scenarios)
        {
            var relay = MedianCpuPerGB(scenario, RelayTls);
            var nginx = MedianCpuPerGB(scenario, NginxTls);
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{scenario.Title,-36} {Fixed(relay),10} {Fixed(nginx),10} {Fixed(Divide(relay, nginx), "0.000"),11} {Fixed(Divide(relay, MedianCpuPerGB(scenario, RecordingOn)), "0.000"),15} {Fixed(Divide(nginx, MedianCpuPerGB(scenario, Nginx)), "0.000"),15}");
        }
    }

    /// <summary><c>tls</c>: the figures of <see cref="AppendTls"/> per throughput scenario; absent unless both TLS targets ran.</summary>
    private void WriteTlsJson(Utf8JsonWriter json)
    {
        if (!HasTlsComparison(targets.Select(TargetName).ToArray()))
        {
            return;
        }

        json.WriteStartObject("tls");
        json.WriteString("relay", RelayTls);
        json.WriteString("peer", NginxTls);
        json.WriteString("certificate", LoadCertificates.KeyKind);
        json.WriteStartObject("negotiated");
        foreach (var (tls, _) in s_tlsPairs)
        {
            json.WriteString(tls, Negotiated.GetValueOrDefault(tls));
        }

        json.WriteEndObject();
        json.WriteStartObject("plainCounterparts");
        foreach (var (tls, plain) in s_tlsPairs)
        {
            json.WriteString(tls, plain);
        }

        json.WriteEndObject();
        json.WriteStartObject("scenarios");
        foreach (var scenario in options.Scenarios.Where(s => s.IsThroughput))
        {
            var relay = MedianValue(scenario, RelayTls);
            var nginx = MedianValue(scenario, NginxTls);
            json.WriteStartObject(scenario.Name);
            json.WriteString("unit", scenario.Unit);
            WriteNullable(json, "relayTls", relay);
            WriteNullable(json, "nginxTls", nginx);
            WriteNullable(json, "relayOverNginx", Divide(relay, nginx));
            var paired = PairedRatios(scenario, RelayTls, NginxTls, s => s.Value(scenario));
            WriteNullable(json, "relayOverNginxPairedMedian", Stats.Median(paired));
            WriteRatios(json, "relayOverNginxPairedRatios", paired);
            WriteNullable(json, "relayTlsOverPlain", Divide(relay, MedianValue(scenario, RecordingOn)));
            WriteNullable(json, "nginxTlsOverPlain", Divide(nginx, MedianValue(scenario, Nginx)));

            var relayCpu = MedianCpuPerGB(scenario, RelayTls);
            var nginxCpu = MedianCpuPerGB(scenario, NginxTls);
            json.WriteStartObject("cpuSecondsPerGB");
            WriteNullable(json, "relayTls", relayCpu);
            WriteNullable(json, "nginxTls", nginxCpu);
            WriteNullable(json, "relayOverNginx", Divide(relayCpu, nginxCpu));
            WriteNullable(json, "relayTlsOverPlain", Divide(relayCpu, MedianCpuPerGB(scenario, RecordingOn)));
            WriteNullable(json, "nginxTlsOverPlain", Divide(nginxCpu, MedianCpuPerGB(scenario, Nginx)));
            json.WriteEndObject();

            if (scenario.Kind == ScenarioKind.RoundTrip)
            {
                WriteNullable(json, "latencyP99RelayOverNginx", Divide(MedianLatency(scenario, RelayTls, p99: true), MedianLatency(scenario, NginxTls, p99: true)));
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }
}
