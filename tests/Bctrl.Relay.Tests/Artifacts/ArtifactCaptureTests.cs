using System.Text;
using Bctrl.Relay.Artifacts;
using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Tests.Artifacts;

/// <summary>
/// <see cref="ArtifactCapture"/>, driven as the runtime pump drives it: each data frame's header, the sampler's
/// <c>Begin</c> on a message's first frame (with the prefix it read), then the message's payload as reads cut it. The
/// copy must be the message's bytes exactly once, however frames and reads fall, and whatever it cannot keep must be
/// counted, never thrown.
/// </summary>
public sealed class ArtifactCaptureTests
{
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly ArtifactSettings Settings = new(MaxMessageBytes: 1024 * 1024, ScreencastFrameInterval: TimeSpan.FromSeconds(1));

    private readonly RecordingArtifactSink _sink = new();

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(int.MaxValue)] // the sampler's prefix is the whole message
    public void A_one_frame_message_is_copied_once_at_every_split_point(int prefixBytes)
    {
        var payload = Result(300);
        var prefixLength = Math.Min(prefixBytes, payload.Length);
        for (var split = 0; split <= payload.Length; split++)
        {
            var sink = new RecordingArtifactSink();
            var capture = new ArtifactCapture(sink, Settings);

            Deliver(capture, [payload], prefixLength, split);

            var taken = Assert.Single(sink.Taken);
            Assert.True(payload.AsSpan().SequenceEqual(taken.Bytes), $"split at {split}");
            Assert.Empty(sink.Lost);
            Assert.False(capture.Active);
        }
    }

    public static TheoryData<int, int, int> ThreeFrames => new()
    {
        { 100, 150, 50 },
        { 100, 200, 0 },  // an empty final frame ends the message by its header alone
        { 10, 0, 290 },   // an empty middle frame
        { 300, 0, 0 },    // everything in the first frame, then two empty ones
        { 1, 1, 298 },
    };

    [Theory]
    [MemberData(nameof(ThreeFrames))]
    public void A_message_in_three_frames_is_copied_once_at_every_split_point(int first, int second, int third)
    {
        var payload = Result(first + second + third);
        var frames = Frames(payload, first, second);
        for (var split = 0; split <= payload.Length; split++)
        {
            var sink = new RecordingArtifactSink();
            var capture = new ArtifactCapture(sink, Settings);

            Deliver(capture, frames, Math.Min(64, frames[0].Length), split);

            var taken = Assert.Single(sink.Taken);
            Assert.True(payload.AsSpan().SequenceEqual(taken.Bytes), $"split at {split}");
            Assert.Empty(sink.Lost);
            Assert.False(capture.Active);
        }
    }

    [Fact]
    public void A_message_larger_than_the_first_guess_grows_across_frames_and_reads()
    {
        // A fragmented message's buffer starts at 64 KiB and grows as it comes: 300 KiB in five frames, read 7919 bytes
        // at a time so that reads cut frames, headers aside, everywhere.
        var payload = Result(300 * 1024);
        var frames = Frames(payload, 3000, 100_000, 0, 120_000);
        var capture = new ArtifactCapture(_sink, Settings);
        var cuts = Enumerable.Range(1, payload.Length / 7919).Select(i => i * 7919).ToArray();

        Deliver(capture, frames, 1024, cuts);

        Assert.True(payload.AsSpan().SequenceEqual(Assert.Single(_sink.Taken).Bytes));
        Assert.Empty(_sink.Lost);
    }

    [Fact]
    public void The_taken_message_is_the_one_begun_with_its_length_and_metadata()
    {
        var payload = Result(200);
        var capture = new ArtifactCapture(_sink, Settings);
        var message = NewMessage();

        capture.OnFrameIfActive(Header(fin: true, WebSocketOpcode.Text, payload.Length)); // before Begin: not yet active
        capture.Begin(message, payload.AsSpan(0, 64), payload.Length, finalFrame: true);
        Assert.True(capture.Active);
        capture.Feed(payload, frameEnds: true);

        var taken = Assert.Single(_sink.Taken);
        Assert.Same(message, taken.Message);
        Assert.Equal(ArtifactKind.Screenshot, taken.Message.Kind);
        Assert.Equal(5, taken.Message.CommandId);
        Assert.Equal("S", taken.Message.SessionId);
        Assert.Equal(Start, taken.Message.CapturedAt);
        Assert.Equal(payload, taken.Bytes);
    }

    [Fact]
    public void Messages_one_after_another_are_each_copied_once()
    {
        var capture = new ArtifactCapture(_sink, Settings);
        var first = Result(500);
        var second = Result(900);
        var third = Result(100);

        Deliver(capture, Frames(first, 200), 64, 321);
        Deliver(capture, [second], 64, 64);
        Deliver(capture, Frames(third, 30, 70), 30, 50);

        Assert.Equal([first, second, third], _sink.Taken.Select(t => t.Bytes));
        Assert.Empty(_sink.Lost);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(1024)]
    public void A_prefix_gathered_across_reads_is_not_copied_twice(int prefixLength)
    {
        // The sampler gathered the prefix from earlier reads and begins the capture in the read that completes it: only
        // this read's bytes are fed, from where the earlier ones stopped (SamplePrefix: PrefixPassedEarlier).
        var payload = Result(2000);
        for (var earlier = 0; earlier < prefixLength; earlier++)
        {
            foreach (var cut in new[] { payload.Length, prefixLength, (prefixLength + payload.Length) / 2 })
            {
                var sink = new RecordingArtifactSink();
                var capture = new ArtifactCapture(sink, Settings);
                capture.OnFrameIfActive(Header(fin: true, WebSocketOpcode.Text, payload.Length));

                capture.Begin(NewMessage(), payload.AsSpan(0, prefixLength), payload.Length, finalFrame: true);
                capture.PrefixPassedEarlier(earlier);
                Feed(capture, payload.AsSpan(earlier, cut - earlier), frameEnds: cut == payload.Length);
                Feed(capture, payload.AsSpan(cut), frameEnds: true);

                var taken = Assert.Single(sink.Taken);
                Assert.True(payload.AsSpan().SequenceEqual(taken.Bytes), $"{earlier} bytes earlier, cut at {cut}");
            }
        }
    }

    [Fact]
    public void A_prefix_gathered_across_reads_of_a_fragmented_message_is_not_copied_twice()
    {
        var payload = Result(3000);
        var frames = Frames(payload, 1500, 700);
        var capture = new ArtifactCapture(_sink, Settings);
        capture.OnFrameIfActive(Header(fin: false, WebSocketOpcode.Text, frames[0].Length));

        capture.Begin(NewMessage(), frames[0].AsSpan(0, 1024), frames[0].Length, finalFrame: false);
        capture.PrefixPassedEarlier(1000);
        Feed(capture, frames[0].AsSpan(1000), frameEnds: true);
        capture.OnFrameIfActive(Header(fin: false, WebSocketOpcode.Continuation, frames[1].Length));
        Feed(capture, frames[1], frameEnds: true);
        capture.OnFrameIfActive(Header(fin: true, WebSocketOpcode.Continuation, frames[2].Length));
        Feed(capture, frames[2], frameEnds: true);

        Assert.True(payload.AsSpan().SequenceEqual(Assert.Single(_sink.Taken).Bytes));
    }

    [Fact]
    public void PrefixPassedEarlier_after_the_copy_was_fed_changes_nothing()
    {
        // Only the copy just begun, not yet fed, holds prefix bytes that will not come again.
        var payload = Result(500);
        var capture = new ArtifactCapture(_sink, Settings);
        capture.Begin(NewMessage(), payload.AsSpan(0, 64), payload.Length, finalFrame: true);
        capture.Feed(payload.AsSpan(0, 100), frameEnds: false);

        capture.PrefixPassedEarlier(50);
        capture.Feed(payload.AsSpan(100), frameEnds: true);

        Assert.True(payload.AsSpan().SequenceEqual(Assert.Single(_sink.Taken).Bytes));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_first_frame_over_the_cap_is_lost_at_once_and_the_next_message_is_copied(bool finalFrame)
    {
        var capture = new ArtifactCapture(_sink, Settings with { MaxMessageBytes = 2048 });
        var tooLarge = Result(2049);

        capture.OnFrameIfActive(Header(finalFrame, WebSocketOpcode.Text, tooLarge.Length));
        capture.Begin(NewMessage(), tooLarge.AsSpan(0, 64), tooLarge.Length, finalFrame);

        Assert.False(capture.Active); // so the pump feeds it nothing
        Assert.Equal([ArtifactLoss.TooLarge], _sink.Lost);
        Assert.Empty(_sink.Taken);

        var next = Result(2048); // exactly the cap is kept
        Deliver(capture, [next], 64, 1000);
        Assert.True(next.AsSpan().SequenceEqual(Assert.Single(_sink.Taken).Bytes));
        Assert.Equal([ArtifactLoss.TooLarge], _sink.Lost);
    }

    [Fact]
    public void A_fragmented_message_that_grows_over_the_cap_is_lost_once_and_the_next_message_is_copied()
    {
        var capture = new ArtifactCapture(_sink, Settings with { MaxMessageBytes = 2048 });
        var tooLarge = Result(3000);

        // Three frames: the cap is passed in the second, and the third (which the pump still sees) is no copy's.
        Deliver(capture, Frames(tooLarge, 1500, 1000), 64, 1700, 2100, 2600);

        Assert.False(capture.Active);
        Assert.Equal([ArtifactLoss.TooLarge], _sink.Lost);
        Assert.Empty(_sink.Taken);

        var next = Result(2048);
        Deliver(capture, Frames(next, 1000, 1000), 64, 1500);
        Assert.True(next.AsSpan().SequenceEqual(Assert.Single(_sink.Taken).Bytes));
        Assert.Equal([ArtifactLoss.TooLarge], _sink.Lost);
    }

    [Fact]
    public void A_refused_message_is_released_without_an_exception_and_the_next_one_is_taken()
    {
        var capture = new ArtifactCapture(_sink, Settings);
        var refused = Result(5000);
        _sink.Full = true;

        Deliver(capture, Frames(refused, 2000), 64, 3000);

        var message = Assert.Single(_sink.Refused);
        Assert.Equal(0, message.Length);
        Assert.Empty(message.Buffer); // back in the pool
        Assert.False(capture.Active);
        Assert.Empty(_sink.Taken);
        Assert.Empty(_sink.Lost); // a full queue counts its own refusals (IArtifactSink.TryTake)

        Assert.Equal(0, _sink.Reserved); // its room was given back

        _sink.Full = false;
        var next = Result(700);
        Deliver(capture, [next], 64, 10);
        Assert.True(next.AsSpan().SequenceEqual(Assert.Single(_sink.Taken).Bytes));
        Assert.Equal(0, _sink.Reserved);
    }

    [Fact]
    public void A_capture_reserves_its_buffer_first_and_without_room_is_lost_as_queue_full()
    {
        var capture = new ArtifactCapture(_sink, Settings);

        // One frame larger than the room: refused at its start, nothing copied.
        _sink.Room = 4000;
        Deliver(capture, [Result(5000)], 64, 10);
        Assert.Empty(_sink.Taken);
        Assert.Equal([ArtifactLoss.QueueFull], _sink.Lost);
        Assert.Equal(0, _sink.Reserved);
        Assert.False(capture.Active);

        // A fragmented message whose buffer must grow past the room: dropped where it grows, its room given back.
        var growing = Result(200_000);
        _sink.Room = 100_000;
        Deliver(capture, Frames(growing, 50_000, 50_000, 50_000), 64, 7919);
        Assert.Empty(_sink.Taken);
        Assert.Equal([ArtifactLoss.QueueFull, ArtifactLoss.QueueFull], _sink.Lost);
        Assert.Equal(0, _sink.Reserved);

        // With room again, the next is taken, and the room it held is the sink's to give back when it is handled.
        _sink.Room = long.MaxValue;
        var next = Result(3000);
        Deliver(capture, [next], 64, 10);
        Assert.True(next.AsSpan().SequenceEqual(Assert.Single(_sink.Taken).Bytes));
        Assert.Equal(0, _sink.Reserved);
    }

    [Fact]
    public void An_abandoned_capture_gives_its_room_back()
    {
        var capture = new ArtifactCapture(_sink, Settings);
        var message = Result(10_000);
        capture.Begin(NewMessage(), message.AsSpan(0, 64), message.Length, finalFrame: true);
        Assert.True(_sink.Reserved >= message.Length);
        capture.Abandon();
        Assert.Equal(0, _sink.Reserved);
    }

    [Fact]
    public void A_screencast_frame_is_due_once_per_interval_the_first_at_once()
    {
        const long Frequency = 1000; // timestamps in milliseconds
        var capture = new ArtifactCapture(_sink, Settings with { ScreencastFrameInterval = TimeSpan.FromSeconds(1) });

        Assert.True(capture.ScreencastFrameDue(5000, Frequency));
        Assert.False(capture.ScreencastFrameDue(5000, Frequency));
        Assert.False(capture.ScreencastFrameDue(5999, Frequency));
        Assert.True(capture.ScreencastFrameDue(6000, Frequency));
        Assert.False(capture.ScreencastFrameDue(6500, Frequency));

        // After a pause the next interval starts at the frame taken, not on a fixed grid.
        Assert.True(capture.ScreencastFrameDue(9300, Frequency));
        Assert.False(capture.ScreencastFrameDue(10_000, Frequency));
        Assert.False(capture.ScreencastFrameDue(10_299, Frequency));
        Assert.True(capture.ScreencastFrameDue(10_300, Frequency));
    }

    [Fact]
    public void The_interval_is_measured_in_the_timestamps_own_frequency()
    {
        // Stopwatch ticks, 10^9 a second on Linux: half a second is 5 * 10^8.
        var capture = new ArtifactCapture(_sink, Settings with { ScreencastFrameInterval = TimeSpan.FromMilliseconds(500) });
        const long Frequency = 1_000_000_000;
        const long T0 = 123_456_789_000;

        Assert.True(capture.ScreencastFrameDue(T0, Frequency));
        Assert.False(capture.ScreencastFrameDue(T0 + 499_999_999, Frequency));
        Assert.True(capture.ScreencastFrameDue(T0 + 500_000_000, Frequency));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void No_screencast_frame_is_ever_due_without_a_positive_interval(int seconds)
    {
        var capture = new ArtifactCapture(_sink, Settings with { ScreencastFrameInterval = TimeSpan.FromSeconds(seconds) });

        for (var t = 0L; t < 100_000; t += 997)
        {
            Assert.False(capture.ScreencastFrameDue(t, 1000));
        }
    }

    [Fact]
    public void An_abandoned_copy_is_neither_taken_nor_counted_and_the_next_message_is_copied()
    {
        var capture = new ArtifactCapture(_sink, Settings);
        var cut = Result(4000);
        var frames = Frames(cut, 1500);
        capture.OnFrameIfActive(Header(fin: false, WebSocketOpcode.Text, frames[0].Length));
        capture.Begin(NewMessage(), frames[0].AsSpan(0, 64), frames[0].Length, finalFrame: false);
        capture.Feed(frames[0].AsSpan(0, 1000), frameEnds: false);

        capture.Abandon(); // the attach ended in the middle of the message

        Assert.False(capture.Active);
        Assert.Empty(_sink.Taken);
        Assert.Empty(_sink.Lost);
        capture.Abandon(); // again, and with nothing in progress: nothing happens

        var next = Result(800);
        Deliver(capture, Frames(next, 400), 64, 123);
        Assert.True(next.AsSpan().SequenceEqual(Assert.Single(_sink.Taken).Bytes));
    }

    [Fact]
    public void A_frame_header_while_idle_changes_nothing()
    {
        var capture = new ArtifactCapture(_sink, Settings);

        capture.OnFrameIfActive(Header(fin: true, WebSocketOpcode.Continuation, 0));
        capture.OnFrameIfActive(Header(fin: true, WebSocketOpcode.Text, 10));

        Assert.False(capture.Active);
        Assert.Empty(_sink.Taken);
        Assert.Empty(_sink.Lost);
    }

    /// <summary>
    /// Delivers a message as the runtime pump does: each frame's header (the first before the sampler's <c>Begin</c>,
    /// with the first <paramref name="prefixLength"/> bytes), then its payload cut by reads at each of
    /// <paramref name="cuts"/> (offsets into the message's payload, all frames together).
    /// </summary>
    private static void Deliver(ArtifactCapture capture, byte[][] frames, int prefixLength, params int[] cuts)
    {
        var offset = 0;
        for (var i = 0; i < frames.Length; i++)
        {
            var frame = frames[i];
            var header = Header(fin: i == frames.Length - 1, i == 0 ? WebSocketOpcode.Text : WebSocketOpcode.Continuation, frame.Length);
            capture.OnFrameIfActive(header);
            if (i == 0)
            {
                capture.Begin(NewMessage(), frame.AsSpan(0, prefixLength), frame.Length, header.Fin);
            }

            var start = 0;
            foreach (var cut in cuts.Select(c => c - offset).Where(c => c > 0 && c < frame.Length).Distinct().Order())
            {
                Feed(capture, frame.AsSpan(start, cut - start), frameEnds: false);
                start = cut;
            }

            Feed(capture, frame.AsSpan(start), frameEnds: true);
            offset += frame.Length;
        }
    }

    /// <summary>As the pump feeds: payload bytes only (an empty frame has none), only while a copy is in progress.</summary>
    private static void Feed(ArtifactCapture capture, ReadOnlySpan<byte> payload, bool frameEnds)
    {
        if (!payload.IsEmpty && capture.Active)
        {
            capture.Feed(payload, frameEnds);
        }
    }

    private static FrameHeader Header(bool fin, WebSocketOpcode opcode, long payloadLength)
        => new(fin, opcode, masked: false, maskKey: 0, payloadLength, headerLength: payloadLength < 126 ? 2 : payloadLength <= ushort.MaxValue ? 4 : 10);

    /// <summary>The payload cut into frames of the given lengths, and a last frame with the rest (maybe empty).</summary>
    private static byte[][] Frames(byte[] payload, params int[] lengths)
    {
        var frames = new List<byte[]>();
        var offset = 0;
        foreach (var length in lengths)
        {
            frames.Add(payload[offset..(offset + length)]);
            offset += length;
        }

        frames.Add(payload[offset..]);
        return [.. frames];
    }

    /// <summary>A screenshot result of exactly <paramref name="size"/> bytes, its data varying so a misplaced byte shows.</summary>
    private static byte[] Result(int size)
    {
        const string Head = "{\"id\":5,\"result\":{\"data\":\"";
        const string Tail = "\"},\"sessionId\":\"S\"}";
        var data = new StringBuilder(size);
        for (var i = 0; data.Length < size - Head.Length - Tail.Length; i++)
        {
            data.Append("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[(i * 7 + i / 64) % 64]);
        }

        var bytes = Encoding.UTF8.GetBytes(Head + data + Tail);
        Assert.Equal(size, bytes.Length);
        return bytes;
    }

    private static CapturedMessage NewMessage() => new()
    {
        Kind = ArtifactKind.Screenshot,
        Method = "Page.captureScreenshot",
        RuntimeId = "rt-capture",
        ConnectionId = Guid.Parse("0b7e8f0c-2d43-4c55-9a51-6d1b0c3e9f27"),
        AttachId = 3,
        CommandId = 5,
        SessionId = "S",
        CapturedAt = Start,
    };
}
