using System.Runtime.CompilerServices;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;
using Xunit.Abstractions;

namespace Bctrl.Relay.FunctionalTests.Transport;

/// <summary>
/// Issue 9: with the sockets its own, the transport sends what a peer does not take at once in parts, and holds what is
/// left only while that peer is not reading (docs/design.md §4 item 6: backpressure, not buffering). Here a reader stops
/// for a while with a small receive buffer, the other side writes tens of MiB of frames in pieces of random sizes, the
/// sender is held back, and once the reader resumes every byte arrives exactly and in order.
/// </summary>
public sealed class BackpressureTests(ITestOutputHelper output)
{
    /// <summary>Far more than the socket buffers and the relay's own thresholds on the way can hold together (loopback buffers grow to tens of MiB).</summary>
    private const long Total = 48L * 1024 * 1024;

    /// <summary>The paused reader's receive buffer (the kernel doubles it), set so that the pause is felt at once.</summary>
    private const int SmallBuffer = 32 * 1024;

    /// <summary>Payload sizes in turn: each length form, around the 4 KiB blocks, and frames larger than any buffer on the way.</summary>
    private static readonly int[] Sizes = [1, 125, 126, 4_093, 4_096, 65_535, 65_536, 131_071, 1_048_577, 3 * 1024 * 1024 + 7];

    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(1.5);

    [Fact(Timeout = 60_000)]
    public async Task Runtime_frames_to_a_client_that_pauses_arrive_exact_and_in_order()
    {
        await using var harness = await TransportHarness.StartAsync();
        var client = await RawClient.OpenAsync(harness.Endpoint, configure: s => s.ReceiveBufferSize = SmallBuffer);
        await using var _ = client;
        var runtime = await harness.Runtime.NextConnectionAsync();
        await SendToPausedReaderAsync(runtime.Wire, client.Wire, masked: false, seed: 91, "the runtime", "runtime to client");
        await TransportHarness.AssertRoundTripAsync(client, runtime, "after the paused client resumed");
    }

    [Fact(Timeout = 60_000)]
    public async Task Client_frames_to_a_runtime_that_pauses_arrive_exact_and_in_order()
    {
        await using var harness = await TransportHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        runtime.Socket.ReceiveBufferSize = SmallBuffer;
        await SendToPausedReaderAsync(client.Wire, runtime.Wire, masked: true, seed: 93, "the client", "client to runtime");
        await TransportHarness.AssertRoundTripAsync(client, runtime, "after the paused runtime resumed");
    }

    [Fact(Timeout = 60_000)]
    public async Task Both_ways_at_once_with_both_readers_paused_every_byte_arrives_exact_and_in_order()
    {
        await using var harness = await TransportHarness.StartAsync();
        var client = await RawClient.OpenAsync(harness.Endpoint, configure: s => s.ReceiveBufferSize = SmallBuffer);
        await using var _ = client;
        var runtime = await harness.Runtime.NextConnectionAsync();
        runtime.Socket.ReceiveBufferSize = SmallBuffer;
        var up = WireBytes.Frames(new Random(95), Total / 2, Sizes, masked: true);
        var down = WireBytes.Frames(new Random(96), Total / 2, Sizes, masked: false);

        var upProgress = new StrongBox<long>();
        var downProgress = new StrongBox<long>();
        var sendUp = Task.Run(() => WireBytes.WriteInPiecesAsync(client.Wire, up, new Random(97), 256 * 1024, upProgress));
        var sendDown = Task.Run(() => WireBytes.WriteInPiecesAsync(runtime.Wire, down, new Random(98), 256 * 1024, downProgress));
        await Task.Delay(Pause);
        Assert.True(!sendUp.IsCompleted && Interlocked.Read(ref upProgress.Value) < up.Length,
            $"the client wrote all {up.Length} bytes while the runtime read nothing: nothing held it back");
        Assert.True(!sendDown.IsCompleted && Interlocked.Read(ref downProgress.Value) < down.Length,
            $"the runtime wrote all {down.Length} bytes while the client read nothing: nothing held it back");
        output.WriteLine($"while neither read, the client wrote {Interlocked.Read(ref upProgress.Value)} of {up.Length} bytes, the runtime {Interlocked.Read(ref downProgress.Value)} of {down.Length}");

        var receivedUp = Task.Run(() => runtime.Wire.ReadExactlyAsync(up.Length));
        var receivedDown = Task.Run(() => client.Wire.ReadExactlyAsync(down.Length));
        WireBytes.AssertSame(up, await receivedUp, "client to runtime");
        WireBytes.AssertSame(down, await receivedDown, "runtime to client");
        await Task.WhenAll(sendUp, sendDown);
        await TransportHarness.AssertRoundTripAsync(client, runtime, "after both readers resumed");
    }

    /// <summary>While the reader pauses, the sender must be held back: it cannot have written everything.</summary>
    private async Task AssertHeldBackAsync(Task send, StrongBox<long> progress, long total, string sender)
    {
        await Task.Delay(Pause);
        if (send.IsFaulted)
        {
            await send; // its own failure, not a missing backpressure
        }

        var written = Interlocked.Read(ref progress.Value);
        Assert.True(!send.IsCompleted && written < total,
            $"{sender} wrote all {total} bytes while its peer read nothing: nothing held it back ({written} counted)");
        Assert.True(written > 0, $"{sender} could write nothing at all");
        output.WriteLine($"{sender} wrote {written} of {total} bytes while its peer read nothing");
    }

    /// <summary>
    /// Frames of <see cref="Sizes"/> (seeded with <paramref name="seed"/>), written by <paramref name="from"/> in random
    /// pieces while the other side does not read: the sender is held back, then every byte arrives exact once
    /// <paramref name="to"/> reads.
    /// </summary>
    private async Task SendToPausedReaderAsync(FakeRuntimeWire from, FakeRuntimeWire to, bool masked, int seed, string sender, string direction)
    {
        var stream = WireBytes.Frames(new Random(seed), Total, Sizes, masked);
        var progress = new StrongBox<long>();
        var send = Task.Run(() => WireBytes.WriteInPiecesAsync(from, stream, new Random(seed + 1), 256 * 1024, progress));
        await AssertHeldBackAsync(send, progress, stream.Length, sender);

        var received = await to.ReadExactlyAsync(stream.Length);
        await send;
        WireBytes.AssertSame(stream, received, direction);
    }
}
