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
        await using var rig = await StartRigAsync();
        var forged = "/" + await ForgedPathAsync(rig);

        var flooding = Stopwatch.StartNew();
        await Parallel.ForAsync(0, Flood, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, _) =>
        {
            using var refused = await RawHttp.UpgradeAsync(rig.Relay.BaseUrl, forged);
            Assert.Equal(401, refused.Status);
        });

        await WaitForSummariesAsync(rig, Flood);

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

    /// <summary>
    /// The discovery documents sit under the same lease URL, so a flood can aim at them as well: their refusals go the
    /// attach path's one way (Refusals), counted in metrics under an instrument of their own and in the same summary.
    /// A bad target id, refused before the lease is even looked at, is counted like any other attach refusal.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task A_bad_token_flood_on_discovery_and_bad_target_ids_are_counted_and_summarised()
    {
        await using var rig = await StartRigAsync();
        var forged = await ForgedPathAsync(rig);
        var lease = await rig.CreateLeaseAsync();
        const int badTargets = 20;

        await Parallel.ForAsync(0, Flood, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            using var refused = await rig.Relay.Http.GetAsync($"{forged}/{(i % 2 == 0 ? "json/version" : "json/list")}", ct);
            Assert.Equal(401, (int)refused.StatusCode);
        });
        for (var i = 0; i < badTargets; i++)
        {
            using var refused = await RawHttp.UpgradeAsync(rig.Relay.BaseUrl, $"/cdp/{lease.Token}/devtools/page/bad~id");
            Assert.Equal(400, refused.Status);
        }

        await WaitForSummariesAsync(rig, Flood + badTargets);
        var summaries = Summaries(rig);
        Assert.True(
            summaries.Sum(s => s.Total) == Flood + badTargets,
            $"summarised {summaries.Sum(s => s.Total)} refusals, expected {Flood + badTargets}; lines: {string.Join(" | ", rig.Relay.Logs.Lines.Where(l => l.Contains("Refused", StringComparison.Ordinal)))}");
        Assert.Equal(Flood, summaries.Sum(s => s.DiscoveryInvalidLease));
        Assert.Equal(0, summaries.Sum(s => s.InvalidLease));

        var metrics = await rig.ScrapeUntilAsync(
            m => m.Sum("bctrl_relay_discovery_refusals_total", ("result", "invalid_lease")) >= Flood
                && m.Sum("bctrl_relay_attach_attempts_total", ("result", "invalid_target")) >= badTargets,
            "the discovery flood's refusals and the bad target ids");
        Assert.Equal(Flood, metrics.Sum("bctrl_relay_discovery_refusals_total", ("result", "invalid_lease")));
        Assert.Equal(badTargets, metrics.Sum("bctrl_relay_attach_attempts_total", ("result", "invalid_target")));
        // Discovery is not an attach: the attach ratio the alerts watch is left alone.
        Assert.Equal(0, metrics.Sum("bctrl_relay_attach_attempts_total", ("result", "invalid_lease")) ?? 0);
    }

    private static Task<ObservationRig> StartRigAsync() => ObservationRig.StartAsync(new Dictionary<string, string?>
    {
        // Production's level: what a refusal costs the log there.
        ["Logging:LogLevel:Default"] = "Information",
        ["Relay:Log:RefusalSummaryInterval"] = Interval.ToString(),
    });

    /// <summary><c>cdp/TOKEN</c> for a real lease's token with its last two characters changed: it fails the signature.</summary>
    private static async Task<string> ForgedPathAsync(ObservationRig rig)
    {
        var lease = await rig.CreateLeaseAsync();
        return "cdp/" + lease.Token[..^2] + (lease.Token.EndsWith("xx", StringComparison.Ordinal) ? "yy" : "xx");
    }

    /// <summary>
    /// The summaries add up to <paramref name="total"/> once the heartbeat has written the last one. The log is polled:
    /// it raises no event per line.
    /// </summary>
    private static async Task WaitForSummariesAsync(ObservationRig rig, long total)
    {
        var deadline = Stopwatch.StartNew();
        while (Summaries(rig).Sum(s => s.Total) < total && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }
    }

    private static List<(long Total, long InvalidLease, long DiscoveryInvalidLease)> Summaries(ObservationRig rig)
    {
        var summaries = new List<(long Total, long InvalidLease, long DiscoveryInvalidLease)>();
        foreach (var line in rig.Relay.Logs.Lines)
        {
            if (SummaryLine().Match(line) is { Success: true } summary)
            {
                summaries.Add((Count(summary), Count(InvalidLeaseCount().Match(line)), Count(DiscoveryInvalidLeaseCount().Match(line))));
            }
        }

        return summaries;

        static long Count(Match match) => match.Success ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    [GeneratedRegex(@"^Information \S+ Refused (\d+) (?:attaches|requests) in the last ")]
    private static partial Regex SummaryLine();

    // An attach's code stands alone (after ": " or ", "); a discovery request's is prefixed.
    [GeneratedRegex(@"(?:: |, )invalid_lease (\d+)")]
    private static partial Regex InvalidLeaseCount();

    [GeneratedRegex(@"\bdiscovery invalid_lease (\d+)")]
    private static partial Regex DiscoveryInvalidLeaseCount();
}
