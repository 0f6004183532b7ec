using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Bctrl.Relay.FunctionalTests.Observation;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary>
/// Issue 8, finding 8: a bad-token flood must not become a log flood. Every refusal is counted in metrics; the log gets
/// one summary line per <c>Relay:Log:RefusalSummaryInterval</c> at most, and none while nothing is refused.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed partial class RefusalSummaryTests
{
    private const int Flood = 500;
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    [Fact(Timeout = 60_000)]
    public async Task A_bad_token_flood_is_counted_in_metrics_and_logged_as_a_few_summary_lines()
    {
        await using var rig = await ObservationRig.StartAsync(new Dictionary<string, string?>
        {
            // Production's level: what a refusal costs the log there.
            ["Logging:LogLevel:Default"] = "Information",
            ["Relay:Log:RefusalSummaryInterval"] = Interval.ToString(),
        });
        var lease = await rig.CreateLeaseAsync();
        var forged = "/cdp/" + lease.Token[..^2] + (lease.Token.EndsWith("xx", StringComparison.Ordinal) ? "yy" : "xx");

        var flooding = Stopwatch.StartNew();
        await Parallel.ForAsync(0, Flood, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, _) =>
        {
            using var refused = await RawHttp.UpgradeAsync(rig.Relay.BaseUrl, forged);
            Assert.Equal(401, refused.Status);
        });

        // The summaries add up to the flood once the heartbeat has written the last one.
        var deadline = Stopwatch.StartNew();
        while (Summaries(rig).Sum(s => s.Total) < Flood && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        var elapsed = flooding.Elapsed;
        var lines = rig.Relay.Logs.Lines.ToArray();
        var refusalLines = lines.Where(l => l.Contains("refused", StringComparison.OrdinalIgnoreCase)).ToArray();
        var bound = (int)(elapsed / Interval) + 2;
        Assert.True(
            refusalLines.Length <= bound,
            $"{refusalLines.Length} lines about refusals for {Flood} refused attaches in {elapsed.TotalSeconds:F1} s (at most {bound} expected); the first: {refusalLines.FirstOrDefault()}");
        var summaries = Summaries(rig);
        Assert.Equal(Flood, summaries.Sum(s => s.Total));
        Assert.Equal(Flood, summaries.Sum(s => s.InvalidLease));

        var metrics = await rig.ScrapeUntilAsync(m => m.Sum("bctrl_relay_attach_attempts_total", ("result", "invalid_lease")) >= Flood, "the flood's refusals");
        Assert.Equal(Flood, metrics.Sum("bctrl_relay_attach_attempts_total", ("result", "invalid_lease")));

        // Nothing refused, nothing written: three intervals later there is still the same number of summaries.
        await Task.Delay(3 * Interval);
        Assert.Equal(summaries.Count, Summaries(rig).Count);
    }

    private static List<(long Total, long InvalidLease)> Summaries(ObservationRig rig)
    {
        var summaries = new List<(long Total, long InvalidLease)>();
        foreach (var line in rig.Relay.Logs.Lines)
        {
            if (SummaryLine().Match(line) is { Success: true } summary)
            {
                var invalidLease = InvalidLeaseCount().Match(line);
                summaries.Add((
                    long.Parse(summary.Groups[1].Value, CultureInfo.InvariantCulture),
                    invalidLease.Success ? long.Parse(invalidLease.Groups[1].Value, CultureInfo.InvariantCulture) : 0));
            }
        }

        return summaries;
    }

    [GeneratedRegex(@"^Information \S+ Refused (\d+) attaches in the last ")]
    private static partial Regex SummaryLine();

    [GeneratedRegex(@": [^|]*\binvalid_lease (\d+)")]
    private static partial Regex InvalidLeaseCount();
}
