using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Bctrl.Relay.Benchmarks;

/// <summary>
/// One entry of <c>bench/allocation-budgets.json</c>: the most bytes per operation a benchmark may allocate.
/// <see cref="Benchmark"/> is <c>Type.Method</c>, with <c>(Name=value, …)</c> for a parameterised case, or a pattern
/// in which <c>*</c> stands for any run of characters (<c>PumpBenchmarks.*</c>).
/// </summary>
internal sealed record AllocationBudget(
    [property: JsonPropertyName("benchmark")] string Benchmark,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("reason")] string Reason)
{
    private Regex? _pattern;

    [JsonIgnore]
    public bool IsPattern => Benchmark.Contains('*', StringComparison.Ordinal);

    public bool Matches(string benchmarkId)
    {
        if (!IsPattern)
        {
            return string.Equals(Benchmark, benchmarkId, StringComparison.Ordinal);
        }

        _pattern ??= new Regex(
            "^" + Regex.Escape(Benchmark).Replace(@"\*", ".*", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant | RegexOptions.Singleline);
        return _pattern.IsMatch(benchmarkId);
    }
}
