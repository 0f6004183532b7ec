namespace Bctrl.Relay.Control;

/// <summary>
/// One list's total order, as text: items are listed in the ordinal order of their <paramref name="Key"/>, which is
/// unique per item. <paramref name="Kind"/> tags the list's cursors (a cursor of another list is refused) and
/// <paramref name="IsValidKey"/> checks the key a cursor carries.
/// </summary>
internal sealed record PageOrder<T>(char Kind, Func<T, string> Key, Func<string, bool> IsValidKey);
