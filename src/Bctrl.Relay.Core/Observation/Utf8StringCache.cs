using System.Text;

namespace Bctrl.Relay.Observation;

/// <summary>
/// One attach's strings for the UTF-8 names it sees again and again (CDP methods, session ids), so a sampled message
/// usually allocates only its record. Bounded: past <see cref="Capacity"/> names it stops caching and just decodes.
/// Used under the observer's lock.
/// </summary>
internal sealed class Utf8StringCache
{
    public const int Capacity = 256;
    private const int MaxNameLength = 128;

    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public Utf8StringCache() => _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxNameLength)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        Span<char> chars = stackalloc char[MaxNameLength];
        var length = Encoding.UTF8.GetChars(utf8, chars);
        var key = chars[..length];
        if (_lookup.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var value = key.ToString();
        if (_strings.Count < Capacity)
        {
            _strings.Add(value, value);
        }

        return value;
    }
}
