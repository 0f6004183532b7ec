using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Bctrl.Relay.Tests.Frames;

/// <summary>
/// Random WebSocket streams for the fuzz tests: valid ones (random opcodes, fragmentation, control frames between
/// fragments, lengths across the 7-, 16- and 64-bit forms, masked for the client direction, a valid close now and then),
/// random mutations of them, and random split points.
/// </summary>
/// <remarks>
/// Quick by default; set <c>RELAY_FUZZ_ITERATIONS</c> for a long run (and <c>RELAY_FUZZ_SEED</c> to start elsewhere).
/// Every iteration uses its own seed, printed in every assertion message, so one failure reproduces on its own with
/// <c>RELAY_FUZZ_SEED=&lt;seed&gt; RELAY_FUZZ_ITERATIONS=1</c>.
/// </remarks>
internal static class FuzzStreams
{
    public const int DefaultSeed = 6455;

    private static readonly string[] Reasons = ["", "bye", "normal", "é", "✓ done", "𝄞", "going away ünïcödé"];
    private static readonly int[] Codes = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3456, 4000, 4999];

    public static int Iterations(int quick)
        => int.TryParse(Environment.GetEnvironmentVariable("RELAY_FUZZ_ITERATIONS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : quick;

    public static int FirstSeed(int offset)
        => int.TryParse(Environment.GetEnvironmentVariable("RELAY_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : DefaultSeed + offset;

    /// <summary>A valid stream of 1-15 frames (then maybe a close); <paramref name="starts"/> gets each frame's offset.</summary>
    public static byte[] Valid(Random random, bool masked, List<int> starts)
    {
        var bytes = new List<byte>();
        var inMessage = false;
        var count = random.Next(1, 16);
        for (var i = 0; i < count; i++)
        {
            starts.Add(bytes.Count);
            if (random.Next(10) < 3)
            {
                Write(bytes, random, random.Next(2) == 0 ? 0x9 : 0xA, fin: true, Bytes(random, random.Next(0, 126)), masked);
                continue;
            }

            var fin = random.Next(3) == 0;
            var opcode = inMessage ? 0x0 : random.Next(2) == 0 ? 0x1 : 0x2;
            Write(bytes, random, opcode, fin, Bytes(random, DataLength(random)), masked);
            inMessage = !fin;
        }

        if (inMessage && random.Next(2) == 0)
        {
            starts.Add(bytes.Count);
            Write(bytes, random, 0x0, fin: true, Bytes(random, DataLength(random)), masked);
        }

        if (random.Next(4) == 0)
        {
            starts.Add(bytes.Count);
            Write(bytes, random, 0x8, fin: true, CloseBody(random), masked);
        }

        return [.. bytes];
    }

    /// <summary>Applies 1-3 mutations (bit flip, truncation, insertion, overwrite), often aimed at a frame's first bytes.</summary>
    public static byte[] Mutate(Random random, byte[] stream, List<int> starts)
    {
        var bytes = stream.ToList();
        var mutations = random.Next(1, 4);
        for (var m = 0; m < mutations && bytes.Count > 0; m++)
        {
            // Half the time near a frame start, where the header rules live.
            var at = random.Next(2) == 0 && starts.Count > 0
                ? Math.Min(bytes.Count - 1, starts[random.Next(starts.Count)] + random.Next(0, 14))
                : random.Next(bytes.Count);
            switch (random.Next(4))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 2:
                    bytes.InsertRange(at, Bytes(random, random.Next(1, 5)));
                    break;
                default:
                    bytes[at] = (byte)random.Next(256);
                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>A valid stream, mutated about half the time.</summary>
    public static byte[] Next(Random random, bool masked)
    {
        var starts = new List<int>();
        var stream = Valid(random, masked, starts);
        return random.Next(2) == 0 ? Mutate(random, stream, starts) : stream;
    }

    /// <summary>Sorted cut points: none, a few, many, or (for short streams) every byte.</summary>
    public static int[] Cuts(Random random, int length)
    {
        if (length < 400 && random.Next(8) == 0)
        {
            return Enumerable.Range(1, Math.Max(0, length - 1)).ToArray();
        }

        var cuts = new int[random.Next(0, 12)];
        for (var i = 0; i < cuts.Length; i++)
        {
            cuts[i] = random.Next(0, length + 1);
        }

        Array.Sort(cuts);
        return cuts;
    }

    private static int DataLength(Random random) => random.Next(20) switch
    {
        < 12 => random.Next(0, 126),
        < 17 => random.Next(126, 1200),
        < 19 => random.Next(1200, 65536),
        _ => random.Next(65536, 70000),
    };

    private static byte[] CloseBody(Random random)
    {
        if (random.Next(6) == 0)
        {
            return [];
        }

        var reason = Encoding.UTF8.GetBytes(Reasons[random.Next(Reasons.Length)]);
        var body = new byte[2 + reason.Length];
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)Codes[random.Next(Codes.Length)]);
        reason.CopyTo(body, 2);
        return body;
    }

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Writes a frame with the minimal length form (RFC 6455 §5.2), masked with a random key when asked.</summary>
    private static void Write(List<byte> into, Random random, int opcode, bool fin, byte[] payload, bool masked)
    {
        into.Add((byte)((fin ? 0x80 : 0) | opcode));
        var mask = masked ? 0x80 : 0;
        if (payload.Length < 126)
        {
            into.Add((byte)(mask | payload.Length));
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            into.Add((byte)(mask | 126));
            into.Add((byte)(payload.Length >> 8));
            into.Add((byte)payload.Length);
        }
        else
        {
            into.Add((byte)(mask | 127));
            for (var shift = 56; shift >= 0; shift -= 8)
            {
                into.Add((byte)((ulong)payload.Length >> shift));
            }
        }

        if (!masked)
        {
            into.AddRange(payload);
            return;
        }

        var key = Bytes(random, 4);
        into.AddRange(key);
        for (var i = 0; i < payload.Length; i++)
        {
            into.Add((byte)(payload[i] ^ key[i % 4]));
        }
    }
}
