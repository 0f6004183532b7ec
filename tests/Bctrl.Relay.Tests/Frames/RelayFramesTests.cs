using System.Runtime.InteropServices;
using System.Text;
using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Tests.Frames;

public sealed class RelayFramesTests
{
    private const int Key = 0x5EED1234;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Close_round_trips_through_a_tracker(bool towardsRuntime)
    {
        // Towards the runtime the relay acts as a client and masks (RFC 6455 §5.1); towards the client it does not.
        FrameDirection direction = towardsRuntime ? FrameDirection.ClientToRuntime : FrameDirection.RuntimeToClient;
        int? key = towardsRuntime ? Key : null;
        var frame = new byte[RelayFrames.MaxFrameLength];

        var length = RelayFrames.WriteClose(frame, 1001, "going away", key);

        (FrameHeader header, byte[] payload) = TrackOne(direction, frame.AsSpan(0, length));
        Assert.Equal(WebSocketOpcode.Close, header.Opcode);
        Assert.True(header.Fin);
        Assert.Equal(key is not null, header.Masked);
        Assert.Equal(key ?? 0, header.MaskKey);
        Assert.Equal(2 + 10, header.PayloadLength);
        Assert.Equal(length, header.FrameLength);
        Assert.Equal(1001, RelayFrames.ReadCloseCode(payload));
        Assert.Equal("going away", Encoding.UTF8.GetString(payload.AsSpan(2)));
    }

    [Fact]
    public void Masked_close_carries_the_key_as_written_and_a_masked_payload()
    {
        var frame = new byte[RelayFrames.MaxFrameLength];

        var length = RelayFrames.WriteClose(frame, 1000, "", Key);

        Assert.Equal(8, length);
        Assert.Equal(0x88, frame[0]);
        Assert.Equal(0x80 | 2, frame[1]);
        Assert.Equal(Key, MemoryMarshal.Read<int>(frame.AsSpan(2)));
        var payload = frame.AsSpan(6, 2).ToArray();
        FrameStreamBuilder.NaiveMask(payload, Key, 0);
        Assert.Equal(new byte[] { 0x03, 0xE8 }, payload);
    }

    [Theory]
    [InlineData("a", 200, 123)]
    [InlineData("é", 100, 122)]
    [InlineData("€", 50, 123)]
    [InlineData("😀", 40, 120)]
    [InlineData("x😀", 30, 121)]
    [InlineData("ok", 1, 2)]
    public void Close_reason_is_cut_on_a_character_boundary_to_fit_123_bytes(string unit, int repeat, int expectedReasonBytes)
    {
        var reason = string.Concat(Enumerable.Repeat(unit, repeat));
        var frame = new byte[RelayFrames.MaxFrameLength];

        var length = RelayFrames.WriteClose(frame, 1011, reason, null);

        Assert.Equal(2 + 2 + expectedReasonBytes, length);
        (_, byte[] payload) = TrackOne(FrameDirection.RuntimeToClient, frame.AsSpan(0, length));
        var decoded = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(payload.AsSpan(2));
        Assert.StartsWith(decoded, reason, StringComparison.Ordinal);
        Assert.Equal(1011, RelayFrames.ReadCloseCode(payload));
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(true, 125)]
    [InlineData(false, 8)]
    [InlineData(false, 125)]
    public void Ping_round_trips_through_a_tracker(bool towardsRuntime, int payloadLength)
    {
        FrameDirection direction = towardsRuntime ? FrameDirection.ClientToRuntime : FrameDirection.RuntimeToClient;
        int? key = towardsRuntime ? Key : null;
        var sent = FrameStreamBuilder.Pattern(payloadLength, 1);
        var frame = new byte[RelayFrames.MaxFrameLength];

        var length = RelayFrames.WritePing(frame, sent, key);

        (FrameHeader header, byte[] payload) = TrackOne(direction, frame.AsSpan(0, length));
        Assert.Equal(WebSocketOpcode.Ping, header.Opcode);
        Assert.Equal((key is null ? 2 : 6) + payloadLength, length);
        Assert.Equal(sent, payload);
    }

    [Fact]
    public void Ping_payload_over_125_bytes_or_a_short_destination_throws()
    {
        var frame = new byte[RelayFrames.MaxFrameLength];

        Assert.Throws<ArgumentOutOfRangeException>(() => RelayFrames.WritePing(frame, new byte[126], null));
        Assert.Throws<ArgumentException>(() => RelayFrames.WritePing(new byte[7], new byte[2], Key));
        Assert.Throws<ArgumentException>(() => RelayFrames.WriteClose(new byte[3], 1000, "", null));
    }

    [Theory]
    [InlineData(new byte[0], 1005)]
    [InlineData(new byte[] { 0x03, 0xE8 }, 1000)]
    [InlineData(new byte[] { 0x0F, 0xA0, 0x68, 0x69 }, 4000)]
    [InlineData(new byte[] { 0xFF, 0xFF }, 65535)]
    public void ReadCloseCode_reads_big_endian_or_1005_when_empty(byte[] payload, int expected)
        => Assert.Equal(expected, RelayFrames.ReadCloseCode(payload));

    [Fact]
    public void Writers_do_not_allocate()
    {
        Span<byte> frame = stackalloc byte[RelayFrames.MaxFrameLength];
        ReadOnlySpan<byte> ping = "keep-alive"u8;
        WriteAll(frame, ping);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var written = WriteAll(frame, ping);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(written > 0);
        Assert.Equal(0, allocated);
    }

    private static long WriteAll(Span<byte> frame, ReadOnlySpan<byte> ping)
    {
        long written = 0;
        for (var i = 0; i < 1000; i++)
        {
            written += RelayFrames.WriteClose(frame, 1001, "runtime went away, and this reason is long enough to be cut short at 123 bytes of UTF-8 so the frame fits", Key);
            written += RelayFrames.WriteClose(frame, 1000, "", null);
            written += RelayFrames.WritePing(frame, ping, Key);
            written += RelayFrames.ReadCloseCode(frame.Slice(2));
        }

        return written;
    }

    private static (FrameHeader Header, byte[] Payload) TrackOne(FrameDirection direction, ReadOnlySpan<byte> frame)
    {
        var tracker = new FrameTracker(direction, 1 << 20);
        Assert.Equal(TrackStatus.ControlFrame, tracker.Track(frame, out var consumed));
        Assert.Equal(frame.Length, consumed);
        var payload = new byte[FrameTracker.MaxControlPayload];
        var length = tracker.CopyControlPayload(payload);
        return (tracker.Header, payload.AsSpan(0, length).ToArray());
    }
}
