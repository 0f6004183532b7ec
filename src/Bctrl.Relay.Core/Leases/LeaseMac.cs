using System.Security.Cryptography;

namespace Bctrl.Relay.Leases;

/// <summary>
/// HMAC-SHA256 for lease tokens through per-thread reusable contexts, one per recently used key.
/// </summary>
/// <remarks>
/// The one-shot <see cref="HMACSHA256.HashData(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/> sets up a new
/// OpenSSL 3 context and key schedule per call: 1.4 µs for a 100-byte token against 0.6 µs for a reused
/// <see cref="IncrementalHash"/> (BenchmarkDotNet, .NET 10, OpenSSL 3.0, x64), which is most of a verify.
/// An <see cref="IncrementalHash"/> is not thread-safe, so each thread keeps its own for the last
/// <see cref="SlotsPerThread"/> keys it used (a ring rarely holds more than two); the first use of a key on a thread
/// allocates, every later one does not. An evicted context is disposed at once; those of ended threads are released
/// by their finalizers.
/// </remarks>
internal static class LeaseMac
{
    public const int SlotsPerThread = 4;

    [ThreadStatic]
    private static Slot[]? t_slots;

    [ThreadStatic]
    private static int t_nextEviction;

    /// <summary>Writes HMAC-SHA256(<paramref name="key"/>, <paramref name="data"/>) into 32 bytes of <paramref name="mac"/>.</summary>
    public static void Compute(SigningKey key, ReadOnlySpan<byte> data, Span<byte> mac)
    {
        var slots = t_slots ??= new Slot[SlotsPerThread];
        var index = Find(slots, key);
        if (index < 0)
        {
            index = Add(slots, key);
        }

        var hmac = slots[index].Hmac!;
        try
        {
            hmac.AppendData(data);
            hmac.GetHashAndReset(mac);
        }
        catch
        {
            // A context that failed half way may hold part of a message: never reuse it.
            hmac.Dispose();
            slots[index] = default;
            throw;
        }
    }

    private static int Find(Slot[] slots, SigningKey key)
    {
        for (var i = 0; i < slots.Length; i++)
        {
            if (ReferenceEquals(slots[i].Key, key))
            {
                return i;
            }
        }

        return -1;
    }

    private static int Add(Slot[] slots, SigningKey key)
    {
        var index = Array.FindIndex(slots, static s => s.Key is null);
        if (index < 0)
        {
            index = t_nextEviction;
            t_nextEviction = (index + 1) % slots.Length;
            slots[index].Hmac!.Dispose();
        }

        slots[index] = new Slot(key, IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key.Secret));
        return index;
    }

    private readonly record struct Slot(SigningKey? Key, IncrementalHash? Hmac);
}
