using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Tests.Frames;

public sealed class WebSocketMaskTests
{
    private const int Key = unchecked((int)0xA1B2C3D4);

    public static TheoryData<long> Offsets => new() { 0, 1, 2, 3, 4, 5, 6, 7, (1L << 33) + 1, (1L << 62) + 3 };

    [Theory]
    [MemberData(nameof(Offsets))]
    public void Matches_the_byte_by_byte_reference_for_every_length(long offset)
    {
        var random = new Random(5_3);
        for (var length = 0; length <= 300; length++)
        {
            // Start 0-3 bytes into the array too, so vectors load unaligned.
            for (var start = 0; start < 4; start++)
            {
                var original = new byte[start + length + 3];
                random.NextBytes(original);
                var expected = (byte[])original.Clone();
                var actual = (byte[])original.Clone();

                FrameStreamBuilder.NaiveMask(expected.AsSpan(start, length), Key, offset);
                WebSocketMask.Apply(actual.AsSpan(start, length), Key, offset);

                Assert.True(expected.AsSpan().SequenceEqual(actual), $"length {length}, start {start}, offset {offset}");
            }
        }
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(4096)]
    [InlineData(65537)]
    public void Masking_in_pieces_equals_masking_at_once(int length)
    {
        var random = new Random(length);
        var whole = new byte[length];
        random.NextBytes(whole);
        var pieces = (byte[])whole.Clone();

        WebSocketMask.Apply(whole, Key, 0);
        for (var at = 0; at < length;)
        {
            var size = Math.Min(random.Next(1, 700), length - at);
            WebSocketMask.Apply(pieces.AsSpan(at, size), Key, at);
            at += size;
        }

        Assert.Equal(whole, pieces);
    }

    [Fact]
    public void Applying_twice_restores_the_data()
    {
        var data = FrameStreamBuilder.Pattern(257, 3);
        var copy = (byte[])data.Clone();

        WebSocketMask.Apply(data, Key, 3);
        Assert.NotEqual(copy, data);
        WebSocketMask.Apply(data, Key, 3);

        Assert.Equal(copy, data);
    }
}
