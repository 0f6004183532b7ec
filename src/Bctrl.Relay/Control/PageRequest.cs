namespace Bctrl.Relay.Control;

/// <summary>One call's <c>limit</c> and decoded <c>cursor</c> on a list of <see cref="PageOrder{T}"/>.</summary>
internal readonly record struct PageRequest<T>(int Limit, string? After, PageOrder<T> Order)
{
    /// <summary>The page of <paramref name="items"/> (in any order) and the cursor of the next one, null on the last page.</summary>
    public (IReadOnlyList<T> Items, string? NextCursor) Take(IEnumerable<T> items)
    {
        var after = After;
        var key = Order.Key;
        var keyed = items.Select(item => (Key: key(item), Item: item));
        if (after is not null)
        {
            keyed = keyed.Where(k => string.CompareOrdinal(k.Key, after) > 0);
        }

        var page = keyed.OrderBy(k => k.Key, StringComparer.Ordinal).Take(Limit + 1).ToList();
        if (page.Count <= Limit)
        {
            return (page.ConvertAll(k => k.Item), null);
        }

        return (page.GetRange(0, Limit).ConvertAll(k => k.Item), Pagination.Encode(Order.Kind, page[Limit - 1].Key));
    }
}
