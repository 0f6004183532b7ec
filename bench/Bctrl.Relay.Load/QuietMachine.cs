using System.Diagnostics;

namespace Bctrl.Relay.Load;

/// <summary>
/// The machine is shared (other builds and tests run on the same two cores), so a window that other processes
/// disturbed is worth less than one they did not. Before a window this waits, briefly, for a quiet half second; a
/// window that was disturbed anyway is run again. Both draw on one time budget, so the run stays bounded.
/// </summary>
internal sealed class QuietMachine(double maxOtherCores, TimeSpan budget, IReadOnlyCollection<IProxyProcess> relays)
{
    private static readonly TimeSpan s_probe = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan s_maxWait = TimeSpan.FromSeconds(10);

    private TimeSpan _spent;

    public bool Enabled => maxOtherCores > 0;

    public bool HasBudget => Enabled && _spent < budget;

    /// <summary>Cores other processes used in <paramref name="sample"/>'s window (0 when unknown).</summary>
    public static double OtherCores(RunSample sample)
        => sample.Seconds > 0 && sample.ForeignCpuSeconds is { } other ? Math.Max(0, other) / sample.Seconds : 0;

    public bool IsDisturbed(RunSample sample) => Enabled && OtherCores(sample) > maxOtherCores;

    /// <summary>Waits until other processes use at most the threshold for half a second, up to 10 s and the budget.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (HasBudget && waited.Elapsed < s_maxWait)
        {
            var before = Others();
            await Task.Delay(s_probe, cancellationToken).ConfigureAwait(false);
            var after = Others();
            _spent += s_probe;
            if (before is null || after is null || (after - before) / s_probe.TotalSeconds <= maxOtherCores)
            {
                return;
            }
        }
    }

    /// <summary>Counts a re-run window against the budget.</summary>
    public void Spend(TimeSpan time) => _spent += time;

    private double? Others()
    {
        var busy = ProcStat.MachineBusySeconds();
        var own = ProcStat.CpuSeconds(Environment.ProcessId);
        return busy - own - relays.Sum(r => r.CpuSeconds() ?? 0);
    }
}
