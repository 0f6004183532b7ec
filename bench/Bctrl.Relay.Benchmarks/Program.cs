using BenchmarkDotNet.Running;

namespace Bctrl.Relay.Benchmarks;

internal static class Program
{
    public static int Main(string[] args)
    {
        // CI's mode: run every benchmark with a short job and hold each to its allocation budget (BudgetCheck).
        if (args.Contains(BudgetCheck.Switch))
        {
            return BudgetCheck.Run(args);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchmarkConfigs.Default);
        return 0;
    }
}
