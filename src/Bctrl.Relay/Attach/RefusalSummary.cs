namespace Bctrl.Relay.Attach;

/// <summary>
/// Refused data-plane requests counted by kind and error code between two summary lines, which the heartbeat writes at
/// most once per <c>Relay:Log:RefusalSummaryInterval</c> (issue 8, finding 8: a line per refusal made a bad-token flood
/// about 5 GiB of log an hour). Lock-free and allocation-free per refusal: the codes are the relay's own literals, a
/// dozen or so, each given a slot of a fixed table the first time it is seen; attaches and discovery requests have a
/// table each.
/// </summary>
internal sealed class RefusalSummary
{
    private readonly Tally _attaches = new();
    private readonly Tally _discovery = new();

    public void Add(RefusedRequest request, string code)
        => (request == RefusedRequest.Attach ? _attaches : _discovery).Add(code);

    /// <summary>
    /// Takes the counts since the last call: their total, and each code with its count, most frequent first, a
    /// discovery request's code prefixed (like <c>invalid_lease 1500, discovery invalid_lease 300, lease_expired 23</c>).
    /// A refusal counted meanwhile goes to this call or the next, never lost.
    /// </summary>
    public (long Total, string Codes) Take()
    {
        var taken = new List<(string Code, long Count)>();
        _attaches.Take(taken, prefix: "");
        _discovery.Take(taken, prefix: "discovery ");
        taken.Sort((a, b) => b.Count.CompareTo(a.Count));
        return (taken.Sum(t => t.Count), string.Join(", ", taken.Select(t => $"{t.Code} {t.Count}")));
    }

    private sealed class Tally
    {
        // Room for every code the relay has and some; a code beyond it is still counted, as "other".
        private const int Slots = 32;

        private readonly string?[] _codes = new string?[Slots];
        private readonly long[] _counts = new long[Slots];
        private long _other;

        public void Add(string code)
        {
            for (var i = 0; i < Slots; i++)
            {
                var slot = Volatile.Read(ref _codes[i]) ?? Interlocked.CompareExchange(ref _codes[i], code, null) ?? code;
                if (ReferenceEquals(slot, code) || string.Equals(slot, code, StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _counts[i]);
                    return;
                }
            }

            Interlocked.Increment(ref _other);
        }

        public void Take(List<(string Code, long Count)> taken, string prefix)
        {
            for (var i = 0; i < Slots && Volatile.Read(ref _codes[i]) is { } code; i++)
            {
                var count = Interlocked.Exchange(ref _counts[i], 0);
                if (count > 0)
                {
                    taken.Add((prefix + code, count));
                }
            }

            var other = Interlocked.Exchange(ref _other, 0);
            if (other > 0)
            {
                taken.Add((prefix + "other", other));
            }
        }
    }
}
