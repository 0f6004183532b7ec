using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Bctrl.Relay.FunctionalTests.Observation;

/// <summary>One sample line: <c>name{label="value",…} value [timestamp]</c>.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Key => Name + "{" + string.Join(",", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"")) + "}";
}

/// <summary>
/// A strict parser of the Prometheus text exposition format 0.0.4 (what <c>/metrics</c> serves to Prometheus), written
/// from the format's documentation rather than from the exporter: every non-comment line is
/// <c>name{labels} value [timestamp]</c> with escaped label values, <c># HELP</c> and <c># TYPE</c> lines name a metric and
/// come at most once each and before its samples, every sample belongs to a declared family, no series repeats, and a
/// histogram's buckets are cumulative and end at <c>+Inf</c> equal to its count. Any violation fails the test.
/// </summary>
internal sealed partial class PrometheusText
{
    private static readonly HashSet<string> Types = new(StringComparer.Ordinal) { "counter", "gauge", "histogram", "summary", "untyped" };

    private PrometheusText(string text, IReadOnlyDictionary<string, string> types, IReadOnlyDictionary<string, string> help, IReadOnlyList<PrometheusSample> samples)
    {
        Text = text;
        FamilyTypes = types;
        Help = help;
        Samples = samples;
    }

    public string Text { get; }

    /// <summary>Family name to its <c># TYPE</c>.</summary>
    public IReadOnlyDictionary<string, string> FamilyTypes { get; }

    public IReadOnlyDictionary<string, string> Help { get; }

    public IReadOnlyList<PrometheusSample> Samples { get; }

    /// <summary>
    /// Scrapes with <paramref name="scrape"/> until <paramref name="done"/> holds, for at most 10 s (the exporter may
    /// serve a scrape a moment old); fails naming <paramref name="what"/> and showing the last scrape.
    /// </summary>
    public static async Task<PrometheusText> UntilAsync(Func<Task<PrometheusText>> scrape, Func<PrometheusText, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var text = await scrape();
            if (done(text))
            {
                return text;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{what} never showed on /metrics:\n{text.Text}");
            await Task.Delay(50);
        }
    }

    /// <summary>The sum of the samples named <paramref name="name"/> whose labels include <paramref name="labels"/>; null when there are none.</summary>
    public double? Sum(string name, params (string Name, string Value)[] labels)
    {
        var matching = Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value)).ToArray();
        return matching.Length == 0 ? null : matching.Sum(s => s.Value);
    }

    public static PrometheusText Parse(string text)
    {
        Assert.False(string.IsNullOrEmpty(text), "/metrics is empty");
        Assert.True(text.EndsWith('\n'), "the exposition does not end with a line feed");
        Assert.DoesNotContain('\r', text);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var help = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new List<PrometheusSample>();
        var seenSeries = new HashSet<string>(StringComparer.Ordinal);
        var familiesWithSamples = new HashSet<string>(StringComparer.Ordinal);
        var lines = text[..^1].Split('\n');
        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n];
            var at = $"line {n + 1} '{line}'";
            if (line.Length == 0)
            {
                continue;
            }

            if (line[0] == '#')
            {
                var comment = CommentLine().Match(line);
                if (!comment.Success)
                {
                    // "# " followed by anything else is a plain comment; a line that looks like HELP or TYPE must be one.
                    Assert.False(line.StartsWith("# HELP", StringComparison.Ordinal) || line.StartsWith("# TYPE", StringComparison.Ordinal), $"malformed {at}");
                    continue;
                }

                var name = comment.Groups["name"].Value;
                var rest = comment.Groups["rest"].Value;
                if (comment.Groups["kind"].Value == "TYPE")
                {
                    Assert.True(Types.Contains(rest), $"unknown type in {at}");
                    Assert.True(types.TryAdd(name, rest), $"second TYPE for {name} at {at}");
                    Assert.False(familiesWithSamples.Contains(name), $"TYPE after samples of {name} at {at}");
                }
                else
                {
                    Assert.True(help.TryAdd(name, Unescape(rest, allowQuote: false, at)), $"second HELP for {name} at {at}");
                }

                continue;
            }

            var sample = ParseSample(line, at);
            Assert.True(seenSeries.Add(sample.Key), $"series repeated at {at}");
            var family = FamilyOf(sample.Name, types);
            Assert.True(family is not null, $"sample of an undeclared family at {at}");
            familiesWithSamples.Add(family);
            samples.Add(sample);
        }

        var parsed = new PrometheusText(text, types, help, samples);
        parsed.CheckHistograms();
        return parsed;
    }

    private static PrometheusSample ParseSample(string line, string at)
    {
        var match = SampleLine().Match(line);
        Assert.True(match.Success, $"malformed sample {at}");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var body = match.Groups["labels"].Value;
        var position = 0;
        while (position < body.Length)
        {
            var label = LabelPair().Match(body, position);
            Assert.True(label.Success && label.Index == position, $"malformed labels at {at}");
            Assert.True(labels.TryAdd(label.Groups["name"].Value, Unescape(label.Groups["value"].Value, allowQuote: true, at)), $"label repeated at {at}");
            position += label.Length;
            if (position < body.Length)
            {
                Assert.Equal(',', body[position]);
                position++;
            }
        }

        Assert.False(labels.Keys.Any(k => k.StartsWith("__", StringComparison.Ordinal)), $"reserved label name at {at}");
        return new PrometheusSample(match.Groups["name"].Value, labels, ParseValue(match.Groups["value"].Value, at));
    }

    private static double ParseValue(string text, string at) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : throw new Xunit.Sdk.XunitException($"bad value in {at}"),
    };

    /// <summary>Label values escape <c>\\</c>, <c>\"</c> and <c>\n</c>; HELP text escapes <c>\\</c> and <c>\n</c>.</summary>
    private static string Unescape(string text, bool allowQuote, string at)
    {
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                result.Append(text[i]);
                continue;
            }

            Assert.True(i + 1 < text.Length, $"dangling escape in {at}");
            var next = text[++i];
            result.Append(next switch
            {
                '\\' => '\\',
                'n' => '\n',
                '"' when allowQuote => '"',
                _ => throw new Xunit.Sdk.XunitException($"bad escape \\{next} in {at}"),
            });
        }

        return result.ToString();
    }

    private static string? FamilyOf(string sampleName, IReadOnlyDictionary<string, string> types)
    {
        if (types.ContainsKey(sampleName))
        {
            return sampleName;
        }

        foreach (var suffix in (string[])["_total", "_bucket", "_sum", "_count", "_created"])
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal) && types.ContainsKey(sampleName[..^suffix.Length]))
            {
                return sampleName[..^suffix.Length];
            }
        }

        return null;
    }

    private void CheckHistograms()
    {
        foreach (var (family, type) in FamilyTypes.Where(t => t.Value == "histogram"))
        {
            var buckets = Samples.Where(s => s.Name == family + "_bucket").ToArray();
            foreach (var series in buckets.GroupBy(b => string.Join(",", b.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"))))
            {
                var ordered = series.Select(b => (Le: ParseValue(b.Labels["le"], family), b.Value)).OrderBy(b => b.Le).ToArray();
                Assert.True(double.IsPositiveInfinity(ordered[^1].Le), $"{family}{{{series.Key}}} has no +Inf bucket");
                for (var i = 1; i < ordered.Length; i++)
                {
                    Assert.True(ordered[i].Value >= ordered[i - 1].Value, $"{family}{{{series.Key}}} buckets are not cumulative");
                }

                var count = Samples.Single(s => s.Name == family + "_count" && SameLabels(s, series.First()));
                Assert.Equal(ordered[^1].Value, count.Value);
                Assert.Single(Samples, s => s.Name == family + "_sum" && SameLabels(s, series.First()));
            }

            Assert.True(type == "histogram");
        }

        static bool SameLabels(PrometheusSample sample, PrometheusSample bucket)
            => sample.Labels.Count == bucket.Labels.Count - 1 && sample.Labels.All(l => bucket.Labels.TryGetValue(l.Key, out var v) && v == l.Value);
    }

    [GeneratedRegex("""^# (?<kind>HELP|TYPE) (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?<rest>.*)$""")]
    private static partial Regex CommentLine();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>([a-zA-Z_][a-zA-Z0-9_]*=""(\\.|[^""\\])*"",?)*)\})? (?<value>\S+)( -?[0-9]+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<name>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(\\.|[^""\\])*)""")]
    private static partial Regex LabelPair();
}
