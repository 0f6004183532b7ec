using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bctrl.Relay.Benchmarks;

/// <summary>
/// The allocation budget file, <c>bench/allocation-budgets.json</c> (issue 5): every benchmark has exactly one
/// budget, and every budget belongs to at least one benchmark, so the file and the benchmarks stay in step.
/// </summary>
internal sealed class AllocationBudgets
{
    public const string RelativePath = "bench/allocation-budgets.json";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    private AllocationBudgets(string path, IReadOnlyList<AllocationBudget> entries)
    {
        Path = path;
        Entries = entries;
    }

    public string Path { get; }

    public IReadOnlyList<AllocationBudget> Entries { get; }

    /// <summary>Reads and validates the file; a problem is a message for the console, not an exception.</summary>
    public static bool TryLoad(string path, out AllocationBudgets budgets, out string error)
    {
        budgets = null!;
        BudgetFile? file;
        try
        {
            file = JsonSerializer.Deserialize<BudgetFile>(File.ReadAllText(path), JsonOptions);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            error = $"{path}: {e.Message}";
            return false;
        }

        if (file is null || file.Budgets.Count == 0)
        {
            error = $"{path}: no budgets.";
            return false;
        }

        var problems = new List<string>();
        foreach (var duplicate in file.Budgets.GroupBy(b => b.Benchmark, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"'{duplicate.Key}' is listed {duplicate.Count()} times.");
        }

        foreach (var budget in file.Budgets)
        {
            if (string.IsNullOrWhiteSpace(budget.Benchmark))
            {
                problems.Add("an entry has no benchmark name.");
            }

            if (budget.Bytes < 0)
            {
                problems.Add($"'{budget.Benchmark}': bytes must be 0 or more, not {budget.Bytes}.");
            }

            if (string.IsNullOrWhiteSpace(budget.Reason))
            {
                problems.Add($"'{budget.Benchmark}': give a reason (one line: why this figure).");
            }
        }

        if (problems.Count > 0)
        {
            error = $"{path}:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", problems);
            return false;
        }

        budgets = new AllocationBudgets(path, file.Budgets);
        error = "";
        return true;
    }

    /// <summary>
    /// The file given with <c>--budgets</c>, else <see cref="RelativePath"/> found by walking up from the current
    /// directory, then from the program's own directory (which lies inside the repository).
    /// </summary>
    public static string? Locate(string? explicitPath)
    {
        if (explicitPath is not null)
        {
            return System.IO.Path.GetFullPath(explicitPath);
        }

        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = System.IO.Path.Combine(directory.FullName, RelativePath);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The budget for one benchmark: an exact entry wins over patterns; several patterns and no exact entry is
    /// ambiguous, and the file must say which one applies.
    /// </summary>
    public AllocationBudget? Find(string benchmarkId, out string? ambiguity)
    {
        ambiguity = null;
        var exact = Entries.FirstOrDefault(b => !b.IsPattern && b.Matches(benchmarkId));
        if (exact is not null)
        {
            return exact;
        }

        var patterns = Entries.Where(b => b.IsPattern && b.Matches(benchmarkId)).ToList();
        if (patterns.Count > 1)
        {
            ambiguity = $"'{benchmarkId}' matches several patterns ({string.Join(", ", patterns.Select(p => p.Benchmark))}); add an exact entry.";
            return null;
        }

        return patterns.Count == 1 ? patterns[0] : null;
    }

    private sealed record BudgetFile(
        [property: JsonPropertyName("budgets")] IReadOnlyList<AllocationBudget> Budgets);
}
