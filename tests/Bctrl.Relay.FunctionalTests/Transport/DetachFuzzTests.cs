using System.Globalization;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Transport;

/// <summary>
/// Issue 9: a property test of the detach hand-over. The upgrade request and 1–5 client frames behind it are written
/// in pieces cut at random points (often right around the end of the request, where the transport's read stops and the
/// splice's begins), a few milliseconds apart or not at all; the runtime's 1–5 frames come back the same way, part of
/// them in the same write as its 101. Whatever the cuts, the runtime receives the client's bytes exactly and the client
/// the runtime's. Quick by default (<c>RELAY_FUZZ_ITERATIONS</c>, 50); every failure names its seed, and
/// <c>RELAY_FUZZ_SEED=&lt;seed&gt; RELAY_FUZZ_ITERATIONS=1</c> runs that case alone.
/// </summary>
public sealed class DetachFuzzTests
{
    private const int DefaultSeed = 9_000_000;

    [Fact(Timeout = 300_000)]
    public async Task Random_cuts_of_the_upgrade_request_and_frames_deliver_exact_bytes_both_ways()
    {
        var iterations = int.TryParse(Environment.GetEnvironmentVariable("RELAY_FUZZ_ITERATIONS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 50;
        var firstSeed = int.TryParse(Environment.GetEnvironmentVariable("RELAY_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : DefaultSeed;
        await using var harness = await TransportHarness.StartAsync();
        for (var i = 0; i < iterations; i++)
        {
            await RunOneAsync(harness, firstSeed + i);
        }

        Assert.Equal((0, iterations), await harness.WaitForAttachCountsAsync(0, iterations));
        Assert.Empty(harness.Runtime.Errors);
    }

    private static async Task RunOneAsync(SpliceHarness harness, int seed)
    {
        var random = new Random(seed);
        var up = Frames(random, masked: true);
        var down = Frames(random, masked: false);
        var behind101 = random.Next(3) == 0 ? random.Next(0, down.Length + 1) : 0;
        var context = $"seed {seed} (RELAY_FUZZ_SEED={seed} RELAY_FUZZ_ITERATIONS=1): {up.Length} bytes of client frames, {down.Length} of runtime frames, {behind101} of them behind its 101";
        harness.Runtime.BehindHandshake = down[..behind101];

        await using var client = await RawClient.ConnectAsync(harness.Endpoint);
        var request = client.UpgradeRequest();
        var upPieces = Pieces(random, [.. request, .. up], around: request.Length);
        var downPieces = Pieces(random, down[behind101..], around: 0);

        // The client writes everything without waiting for its 101, as a pipelining client does.
        var sendUp = WriteAsync(client.Wire, upPieces);
        var response = await client.ReadResponseAsync();
        Assert.True(response.Status == 101, $"{context}: expected 101, got {response.Head}{response.Body}");
        var runtime = await harness.Runtime.NextConnectionAsync();
        var receivedUp = await runtime.Wire.ReadExactlyAsync(up.Length);
        await sendUp;
        WireBytes.AssertSame(up, receivedUp, $"{context}: client to runtime");

        var sendDown = WriteAsync(runtime.Wire, downPieces);
        var receivedDown = await client.Wire.ReadExactlyAsync(down.Length);
        await sendDown;
        WireBytes.AssertSame(down, receivedDown, $"{context}: runtime to client");

        // A clean end: the client closes, the runtime answers and ends TCP.
        await client.SendCloseAsync(1000);
        var close = await runtime.ReadFrameAsync();
        Assert.True(close.Opcode == FakeRuntimeFrame.Close && close.CloseCode == 1000, $"{context}: the runtime got {close} after the frames");
        await runtime.SendCloseAsync(1000);
        runtime.Drop();
        Assert.Equal(1000, (await client.ReadFrameAsync()).CloseCode);
        Assert.Equal(0, await client.ReadToEndAsync());
    }

    /// <summary>
    /// 1–5 valid frames: whole messages, fragmented ones (with a ping between fragments, §5.4), pings; payloads of every
    /// length form, mostly small. No pongs (the relay keeps answers to its own pings) and no close (the test ends with one).
    /// </summary>
    private static byte[] Frames(Random random, bool masked)
    {
        var bytes = new List<byte>();
        var count = random.Next(1, 6);
        var inMessage = false;
        for (var i = 0; i < count; i++)
        {
            if (random.Next(5) == 0)
            {
                bytes.AddRange(WireBytes.Encode(random, FakeRuntimeFrame.Ping, Payload(random, random.Next(0, 126), text: false), fin: true, masked));
                continue;
            }

            var text = !inMessage && random.Next(2) == 0;
            var opcode = inMessage ? FakeRuntimeFrame.Continuation : text ? FakeRuntimeFrame.Text : FakeRuntimeFrame.Binary;
            var fin = random.Next(3) != 0;
            bytes.AddRange(WireBytes.Encode(random, opcode, Payload(random, Length(random), text), fin, masked));
            inMessage = !fin;
        }

        if (inMessage)
        {
            bytes.AddRange(WireBytes.Encode(random, FakeRuntimeFrame.Continuation, Payload(random, Length(random), text: false), fin: true, masked));
        }

        return [.. bytes];
    }

    private static int Length(Random random) => random.Next(10) switch
    {
        < 6 => random.Next(0, 126),
        < 9 => random.Next(126, 70_000),
        _ => random.Next(70_000, 300_000),
    };

    /// <summary>Random bytes, or for text ASCII letters (the relay does not read text payloads as UTF-8, but a sampler may read them).</summary>
    private static byte[] Payload(Random random, int length, bool text)
    {
        var payload = new byte[length];
        random.NextBytes(payload);
        if (text)
        {
            for (var i = 0; i < payload.Length; i++)
            {
                payload[i] = (byte)('a' + (payload[i] % 26));
            }
        }

        return payload;
    }

    /// <summary>
    /// <paramref name="bytes"/> cut into 1–9 pieces, half of the cuts within 8 bytes of <paramref name="around"/>, each with
    /// a pause to take before it is written (none half the time, else 1–3 ms).
    /// </summary>
    private static List<(byte[] Bytes, int DelayMs)> Pieces(Random random, byte[] bytes, int around)
    {
        var cuts = new SortedSet<int> { 0, bytes.Length };
        var count = random.Next(0, 9);
        for (var i = 0; i < count && bytes.Length > 1; i++)
        {
            var cut = random.Next(2) == 0 ? around + random.Next(-8, 9) : random.Next(1, bytes.Length);
            cuts.Add(Math.Clamp(cut, 1, bytes.Length - 1));
        }

        var points = cuts.ToArray();
        var pieces = new List<(byte[], int)>();
        for (var i = 0; i + 1 < points.Length; i++)
        {
            pieces.Add((bytes[points[i]..points[i + 1]], random.Next(2) == 0 ? 0 : random.Next(1, 4)));
        }

        return pieces;
    }

    private static async Task WriteAsync(FakeRuntimeWire wire, List<(byte[] Bytes, int DelayMs)> pieces)
    {
        foreach (var (bytes, delay) in pieces)
        {
            if (delay > 0)
            {
                await Task.Delay(delay);
            }

            await wire.Stream.WriteAsync(bytes);
        }
    }
}
