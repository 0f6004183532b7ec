using System.Collections.Concurrent;

namespace Bctrl.Relay.Policy;

/// <summary>
/// A lease term read from its stored text (a policy, quotas), parsed once per distinct text and shared by every attach
/// that carries it: leases of one customer mostly carry the same text. Bounded: past <see cref="Capacity"/> texts it
/// starts again. Null for no text, and for a text <c>parse</c> cannot read.
/// </summary>
internal sealed class ParsedTextCache<T>(Func<string, T?> parse)
    where T : class
{
    public const int Capacity = 4096;

    private readonly ConcurrentDictionary<string, T?> _byText = new(StringComparer.Ordinal);

    public T? Get(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (_byText.TryGetValue(text, out var cached))
        {
            return cached;
        }

        if (_byText.Count >= Capacity)
        {
            _byText.Clear();
        }

        return _byText[text] = parse(text);
    }
}
