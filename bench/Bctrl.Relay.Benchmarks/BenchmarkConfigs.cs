using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Validators;
using Perfolizer.Horology;

namespace Bctrl.Relay.Benchmarks;

/// <summary>The configurations every run of these benchmarks uses.</summary>
internal static class BenchmarkConfigs
{
    /// <summary>
    /// Benchmarks that refuse to lie: allocations always shown, and a Debug or otherwise unoptimised build is an
    /// error rather than a warning buried in the log.
    /// </summary>
    public static IConfig Default { get; } = DefaultConfig.Instance
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddValidator(JitOptimizationsValidator.FailOnError);

    /// <summary>
    /// The allocation budget check (<see cref="BudgetCheck"/>): the same diagnoser and validator with a short job.
    /// MemoryDiagnoser counts the bytes of one extra workload iteration after the measured ones, so the figure is
    /// exact and taken in the steady state (by then the JIT has tiered up) however rough the timings are. 3 warm-up
    /// and 3 measured iterations of 150 ms (BenchmarkDotNet warns below 100 ms) come to about 1.5 s per benchmark
    /// after the pilot; the whole check took 36 s on 2 shared cores with 7 benchmarks, 21 s of it the build.
    /// </summary>
    public static IConfig Budget { get; } = Default
        .AddJob(Job.Default
            .WithId("Budget")
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(3)
            .WithIterationTime(TimeInterval.FromMilliseconds(150)));
}
