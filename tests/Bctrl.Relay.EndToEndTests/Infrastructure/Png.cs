using System.Buffers.Binary;

namespace Bctrl.Relay.EndToEndTests.Infrastructure;

/// <summary>Just enough PNG to tell a real image from a truncated or re-encoded one.</summary>
internal static class Png
{
    public const int OneMiB = 1024 * 1024;

    // PNG §5.2: the 8-byte signature, then the IHDR chunk: length (13), "IHDR", width, height (big-endian).
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Asserts the signature, the IHDR chunk and the closing IEND chunk; returns the image's size in pixels.</summary>
    public static (int Width, int Height) AssertValid(byte[] png)
    {
        Assert.True(png.Length > 33, $"A PNG is at least 33 bytes; got {png.Length}.");
        Assert.Equal(Signature, png[..8]);
        Assert.Equal(13, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(8)));
        Assert.Equal("IHDR"u8.ToArray(), png[12..16]);

        // The last chunk is IEND: length 0, type, CRC AE 42 60 82. A truncated screenshot would miss it.
        Assert.Equal("IEND"u8.ToArray(), png[^8..^4]);
        Assert.Equal(new byte[] { 0xAE, 0x42, 0x60, 0x82 }, png[^4..]);
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    /// <summary>A full-page screenshot of the noise page: a valid PNG over 1 MiB, as tall as the whole page.</summary>
    public static void AssertFullPageNoise(byte[] png)
    {
        Assert.True(png.Length > OneMiB, $"The full-page screenshot is {png.Length} bytes; expected over 1 MiB.");
        var (width, height) = AssertValid(png);
        Assert.True(width >= TestSite.NoiseWidth, $"The screenshot is {width} px wide; the page is {TestSite.NoiseWidth}.");
        Assert.True(height >= TestSite.NoiseHeight, $"The screenshot is {height} px tall; the full page is {TestSite.NoiseHeight}.");
    }
}
