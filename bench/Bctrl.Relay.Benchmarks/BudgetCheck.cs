using System.Globalization;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Bctrl.Relay.Benchmarks;

/// <summary>
/// <c>--check-budgets [--budgets PATH]</c>: runs every benchmark of this assembly with
/// <see cref="BenchmarkConfigs.Budget"/> and compares each one's allocated bytes per operation with its entry in
/// <see cref="AllocationBudgets"/> (issue 5). Exit code 1, with each reason named, when a benchmark allocates more
/// than its budget, has no budget, did not run or has no allocation figure, or when a budget matches no benchmark.
/// </summary>
/// <remarks>
/// The figures come from the run's <see cref="Summary"/>, the same data BenchmarkDotNet's exporters write to
/// <c>BenchmarkDotNet.Artifacts/results</c>; reading them in process means a results file left by an earlier run can
/// never stand in for this one.
/// </remarks>
internal static class BudgetCheck
{
    public const string Switch = "--check-budgets";
    private const string BudgetsOption = "--budgets";

    public static int Run(string[] args)
    {
        string? explicitPath = null;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == Switch)
            {
                continue;
            }

            if (args[i] == BudgetsOption && i + 1 < args.Length)
            {
                explicitPath = args[++i];
                continue;
            }

            return Fail($"Unknown argument '{args[i]}'. Usage: {Switch} [{BudgetsOption} PATH]");
        }

        var path = AllocationBudgets.Locate(explicitPath);
        if (path is null)
        {
            return Fail($"No {AllocationBudgets.RelativePath} above {Environment.CurrentDirectory}; pass {BudgetsOption} PATH.");
        }

        // Check the file before the run: a typo should cost seconds, not the whole run.
        if (!AllocationBudgets.TryLoad(path, out var budgets, out var error))
        {
            return Fail(error);
        }

        var summaries = BenchmarkRunner.Run(typeof(Program).Assembly, BenchmarkConfigs.Budget);

        // A figure over its budget by less than one object per operation (24 B, the smallest) cannot be what every
        // operation allocates: it is what other threads allocated during the one measured iteration (a timer, the
        // JIT's tier-up), spread over few operations (a 1 MiB frame is about 150 per iteration). Such a case runs
        // once more and the lower figure counts, as the unit tests take the least of a few windows. A real
        // allocation per operation is at least 24 B over and fails at once.
        var retry = summaries
            .SelectMany(summary => summary.BenchmarksCases.Select(benchmark => (Id: BenchmarkId(benchmark), Allocated: AllocatedPerOperation(summary[benchmark]))))
            .Where(run => budgets.Find(run.Id, out _) is { } budget && run.Allocated > budget.Bytes && run.Allocated < budget.Bytes + SmallestObject)
            .Select(run => run.Id)
            .ToHashSet(StringComparer.Ordinal);
        var second = new Dictionary<string, long>(StringComparer.Ordinal);
        if (retry.Count > 0)
        {
            var config = BenchmarkDotNet.Configs.ConfigExtensions.AddFilter(BenchmarkConfigs.Budget, new BenchmarkDotNet.Filters.SimpleFilter(benchmark => retry.Contains(BenchmarkId(benchmark))));
            foreach (var summary in BenchmarkRunner.Run(typeof(Program).Assembly, config))
            {
                foreach (var benchmark in summary.BenchmarksCases)
                {
                    if (AllocatedPerOperation(summary[benchmark]) is { } allocated)
                    {
                        second[BenchmarkId(benchmark)] = allocated;
                    }
                }
            }
        }

        return Compare(budgets, summaries, second);
    }

    private const long SmallestObject = 24;

    private static int Compare(AllocationBudgets budgets, Summary[] summaries, Dictionary<string, long> second)
    {
        var problems = new List<string>();
        // Each class's summary repeats the assembly's validation errors (a Debug build, for one): name each once.
        problems.AddRange(summaries
            .SelectMany(s => s.ValidationErrors)
            .Where(e => e.IsCritical)
            .Select(e => $"validation: {e.Message}")
            .Distinct(StringComparer.Ordinal));

        var rows = new List<(string Id, string Allocated, string Budget, string Verdict)>();
        var ids = new List<string>();
        foreach (var summary in summaries)
        {
            foreach (var benchmark in summary.BenchmarksCases)
            {
                var id = BenchmarkId(benchmark);
                ids.Add(id);
                var budget = budgets.Find(id, out var ambiguity);

                var allocated = AllocatedPerOperation(summary[benchmark]);
                if (allocated is not null && second.TryGetValue(id, out var again))
                {
                    allocated = Math.Min(allocated.Value, again);
                }

                var budgetText = budget is null ? "none" : Bytes(budget.Bytes);
                if (allocated is null)
                {
                    rows.Add((id, "n/a", budgetText, "NOT RUN"));
                    problems.Add($"{id}: did not run or has no allocation figure (see the log above).");
                }
                else if (budget is null)
                {
                    rows.Add((id, Bytes(allocated.Value), budgetText, "NO BUDGET"));
                    problems.Add(ambiguity ?? $"{id}: no entry in the budget file; add one with the figure and a reason.");
                }
                else if (allocated.Value > budget.Bytes)
                {
                    rows.Add((id, Bytes(allocated.Value), budgetText, "OVER"));
                    problems.Add($"{id}: allocates {Bytes(allocated.Value)} B/op, over its budget of {Bytes(budget.Bytes)} B/op ({budget.Reason}).");
                }
                else
                {
                    var note = allocated.Value < budget.Bytes ? "ok (under: lower the budget)" : "ok";
                    rows.Add((id, Bytes(allocated.Value), budgetText, note));
                }
            }
        }

        if (rows.Count == 0)
        {
            // Nothing to hold the file against: every entry would look stale, which would hide the real cause above.
            problems.Add("No benchmark ran.");
        }
        else
        {
            foreach (var unused in budgets.Entries.Where(b => !ids.Any(b.Matches)))
            {
                problems.Add($"budget '{unused.Benchmark}' matches no benchmark; remove it or fix its name.");
            }
        }

        PrintTable(budgets.Path, rows);
        if (problems.Count == 0)
        {
            Console.WriteLine($"Allocation budgets: all {rows.Count} benchmarks within budget.");
            return 0;
        }

        Console.Error.WriteLine($"Allocation budgets: {problems.Count} problem(s):");
        foreach (var problem in problems)
        {
            Console.Error.WriteLine("  " + problem);
        }

        return 1;
    }

    /// <summary><c>Type.Method</c>, then <c>(Name=value, …)</c> when the case has parameters or arguments.</summary>
    internal static string BenchmarkId(BenchmarkCase benchmark)
    {
        var id = $"{benchmark.Descriptor.Type.Name}.{benchmark.Descriptor.WorkloadMethod.Name}";
        if (benchmark.Parameters.Count == 0)
        {
            return id;
        }

        var parameters = benchmark.Parameters.Items.Select(p => $"{p.Name}={Convert.ToString(p.Value, CultureInfo.InvariantCulture)}");
        return $"{id}({string.Join(", ", parameters)})";
    }

    /// <summary>The Allocated column's figure (whole bytes per operation), or null when there is none.</summary>
    private static long? AllocatedPerOperation(BenchmarkReport? report) =>
        report is { Success: true } && report.GcStats.TotalOperations > 0
            ? report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase)
            : null;

    private static void PrintTable(string path, List<(string Id, string Allocated, string Budget, string Verdict)> rows)
    {
        // By class, then in BenchmarkDotNet's order within it (parameters in their declared order, not as strings).
        var ordered = rows.OrderBy(r => r.Id[..r.Id.IndexOf('.', StringComparison.Ordinal)], StringComparer.Ordinal).ToList();
        string[] header = ["benchmark", "allocated B/op", "budget B/op", "verdict"];
        var idWidth = Math.Max(header[0].Length, ordered.Select(r => r.Id.Length).DefaultIfEmpty(0).Max());
        var allocatedWidth = Math.Max(header[1].Length, ordered.Select(r => r.Allocated.Length).DefaultIfEmpty(0).Max());
        var budgetWidth = Math.Max(header[2].Length, ordered.Select(r => r.Budget.Length).DefaultIfEmpty(0).Max());

        Console.WriteLine();
        Console.WriteLine($"Allocation budgets ({path}):");
        Console.WriteLine($"| {header[0].PadRight(idWidth)} | {header[1].PadLeft(allocatedWidth)} | {header[2].PadLeft(budgetWidth)} | {header[3]} |");
        Console.WriteLine($"|{new string('-', idWidth + 2)}|{new string('-', allocatedWidth + 1)}:|{new string('-', budgetWidth + 1)}:|---|");
        foreach (var (id, allocated, budget, verdict) in ordered)
        {
            Console.WriteLine($"| {id.PadRight(idWidth)} | {allocated.PadLeft(allocatedWidth)} | {budget.PadLeft(budgetWidth)} | {verdict} |");
        }

        Console.WriteLine();
    }

    private static string Bytes(long bytes) => bytes.ToString("N0", CultureInfo.InvariantCulture);

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"Allocation budgets: {message}");
        return 1;
    }
}
