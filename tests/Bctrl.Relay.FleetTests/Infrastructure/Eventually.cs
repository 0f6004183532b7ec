using System.Diagnostics;

namespace Bctrl.Relay.FleetTests.Infrastructure;

/// <summary>Polling with a deadline: how long a condition took to hold, or a failure naming it.</summary>
public static class Eventually
{
    public static async Task<TimeSpan> HoldsAsync(Func<Task<bool>> condition, TimeSpan within, string what, int pollMilliseconds = 5)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < within, $"{what}: not within {within.TotalSeconds} s");
            await Task.Delay(pollMilliseconds);
        }

        return watch.Elapsed;
    }

    public static Task<TimeSpan> HoldsAsync(Func<bool> condition, TimeSpan within, string what, int pollMilliseconds = 1)
        => HoldsAsync(() => Task.FromResult(condition()), within, what, pollMilliseconds);
}
