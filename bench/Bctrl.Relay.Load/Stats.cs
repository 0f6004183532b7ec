namespace Bctrl.Relay.Load;

internal static class Stats
{
    /// <summary>The median, or null for no values: robust to the one round a neighbour's burst of CPU spoiled.</summary>
    public static double? Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return null;
        }

        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
