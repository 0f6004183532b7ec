using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Validators;

namespace Bctrl.Relay.Benchmarks;

internal static class Program
{
    public static void Main(string[] args)
    {
        // Benchmarks that refuse to lie: allocations always shown, and a Debug or otherwise unoptimised build is an
        // error rather than a warning buried in the log.
        IConfig config = DefaultConfig.Instance
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddValidator(JitOptimizationsValidator.FailOnError);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}
