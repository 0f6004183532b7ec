using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Transport;

/// <summary>
/// Byte-level helpers for the transport tests (issue 9): streams of well-formed frames with known contents, writes cut
/// into pieces, and reads that keep every byte up to the end of a connection, so a test can say which bytes arrived
/// and in what order, not only which frames.
/// </summary>
internal static class WireBytes
{
    /// <summary>
    /// Data frames (binary, each one whole message) carrying pseudo-random payloads from <paramref name="random"/>, of the
    /// given sizes in turn until at least <paramref name="totalPayload"/> payload bytes: masked with a random key each (a
    /// client's) or not (a runtime's).
    /// </summary>
    public static byte[] Frames(Random random, long totalPayload, int[] sizes, bool masked)
    {
        using var stream = new MemoryStream();
        long written = 0;
        for (var i = 0; written < totalPayload; i++)
        {
            var payload = new byte[sizes[i % sizes.Length]];
            random.NextBytes(payload);
            stream.Write(Encode(random, FakeRuntimeFrame.Binary, payload, fin: true, masked));
            written += payload.Length;
        }

        return stream.ToArray();
    }

    /// <summary>One frame, masked with a key from <paramref name="random"/> when <paramref name="masked"/>.</summary>
    public static byte[] Encode(Random random, byte opcode, byte[] payload, bool fin, bool masked)
    {
        var key = new byte[4];
        random.NextBytes(key);
        return FakeRuntimeFrame.Encode(opcode, payload, fin, masked, maskKey: key);
    }

    /// <summary>
    /// Writes <paramref name="bytes"/> in pieces of random sizes up to <paramref name="maxPiece"/>, one socket write each,
    /// adding each piece's length to <paramref name="progress"/> once it is written (so a test can see a sender held back).
    /// </summary>
    public static async Task WriteInPiecesAsync(FakeRuntimeWire wire, byte[] bytes, Random random, int maxPiece, StrongBox<long>? progress = null)
    {
        var offset = 0;
        while (offset < bytes.Length)
        {
            var length = Math.Min(bytes.Length - offset, random.Next(1, maxPiece + 1));
            await wire.Stream.WriteAsync(bytes.AsMemory(offset, length));
            offset += length;
            if (progress is not null)
            {
                Interlocked.Add(ref progress.Value, length);
            }
        }

        await wire.Stream.FlushAsync();
    }

    /// <summary>
    /// Asserts that <paramref name="actual"/> is <paramref name="expected"/> byte for byte, naming the first offset where
    /// they part (a whole-array assertion would print megabytes).
    /// </summary>
    public static void AssertSame(byte[] expected, byte[] actual, string what)
    {
        if (expected.AsSpan().SequenceEqual(actual))
        {
            return;
        }

        var at = expected.AsSpan().CommonPrefixLength(actual);
        Assert.Fail($"{what}: {actual.Length} bytes arrived where {expected.Length} were sent; they agree up to offset {at}"
            + (at < Math.Min(expected.Length, actual.Length) ? $", where {expected[at]:X2} was sent and {actual[at]:X2} arrived." : "."));
    }

    /// <summary>
    /// Every byte until the peer ends the connection (a FIN or a reset), what the wire had buffered first; fails with a
    /// <see cref="TimeoutException"/> when nothing arrives for the wire's read timeout and the connection has not ended.
    /// </summary>
    public static async Task<byte[]> ReadAllAsync(FakeRuntimeWire wire)
    {
        using var collected = new MemoryStream();
        collected.Write(await wire.ReadExactlyAsync(wire.Buffered));
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var timeout = new CancellationTokenSource(wire.ReadTimeout);
            int read;
            try
            {
                read = await wire.Stream.ReadAsync(buffer, timeout.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"The connection was not ended within {wire.ReadTimeout.TotalSeconds} s ({collected.Length} bytes so far).");
            }
            catch (IOException exception) when (exception.InnerException is SocketException)
            {
                return collected.ToArray();
            }

            if (read == 0)
            {
                return collected.ToArray();
            }

            collected.Write(buffer, 0, read);
        }
    }

    /// <summary>Whether <paramref name="prefix"/> is where <paramref name="whole"/> starts.</summary>
    public static bool IsPrefixOf(byte[] prefix, byte[] whole) => prefix.Length <= whole.Length && whole.AsSpan(0, prefix.Length).SequenceEqual(prefix);
}
