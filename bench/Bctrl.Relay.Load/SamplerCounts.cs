using System.Globalization;

namespace Bctrl.Relay.Load;

/// <summary>
/// A relay's own counts of its sampler's work (Prometheus text from <c>/metrics</c>), over the relay's life, warm-up
/// windows included: text messages it relayed from clients, CDP results it matched to their command and timed
/// (<c>bctrl_relay_cdp_command_duration</c>), and records it dropped because the queue was full.
/// </summary>
internal sealed record SamplerCounts(long ClientMessages, long CommandsTimed, long RecordsDropped)
{
    public static SamplerCounts Parse(string prometheus)
    {
        long clientMessages = 0;
        long timed = 0;
        long dropped = 0;
        foreach (var raw in prometheus.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            // "name{labels} value [timestamp]": the value is the first token after the name and its labels.
            var name = NameOf(line);
            var labelsEnd = line.LastIndexOf('}');
            var rest = (labelsEnd >= 0 ? line[(labelsEnd + 1)..] : line[name.Length..]).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (rest.Length == 0 || !double.TryParse(rest[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }

            if (name == "bctrl_relay_messages_total" && line.Contains("direction=\"client_to_runtime\"", StringComparison.Ordinal))
            {
                clientMessages += (long)value;
            }
            else if (name == "bctrl_relay_cdp_command_duration_seconds_count")
            {
                timed += (long)value;
            }
            else if (name == "bctrl_relay_observation_dropped_total")
            {
                dropped += (long)value;
            }
        }

        return new SamplerCounts(clientMessages, timed, dropped);
    }

    private static string NameOf(string line)
    {
        var end = line.IndexOfAny(['{', ' ']);
        return end < 0 ? line : line[..end];
    }
}
