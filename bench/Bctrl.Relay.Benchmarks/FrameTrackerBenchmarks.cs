using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Bctrl.Relay.Frames;
using BenchmarkDotNet.Attributes;

namespace Bctrl.Relay.Benchmarks;

/// <summary>
/// The frame tracker on the splice hot path: it runs on every read in both directions, so it must not allocate
/// and must cost little against the copy it rides on.
/// </summary>
[MemoryDiagnoser]
public class FrameTrackerBenchmarks
{
    // The most a Kestrel pipe hands out per read without allocating (see style guide).
    private const int ReadSize = 4096;
    private const long MaxMessageBytes = 64 << 20;
    private const int MaskKey = 0x1A2B3C4D;

    private byte[] _segment = null!;
    private byte[] _splitFirst = null!;
    private byte[] _splitSecond = null!;

    [GlobalSetup]
    public void Setup()
    {
        // Client-to-runtime frames the size of CDP commands: mostly 7-bit and 16-bit lengths, a ping now and then.
        int[] sizes = [48, 96, 120, 180, 64, 300, 72, 0, 1000];
        var segment = new byte[ReadSize];
        var length = 0;
        for (var i = 0; ; i++)
        {
            var opcode = sizes[i % sizes.Length] == 0 ? WebSocketOpcode.Ping : WebSocketOpcode.Text;
            var payload = sizes[i % sizes.Length];
            if (length + 14 + payload > segment.Length)
            {
                break;
            }

            length += WriteFrame(segment.AsSpan(length), opcode, payload, extendedLength: false);
        }

        _segment = segment.AsSpan(0, length).ToArray();

        // A 14-byte header (64-bit length, masked) cut after its fifth byte, as a read boundary would. 65536 is the
        // smallest payload the 64-bit form may carry (RFC 6455 §5.2: minimal length encoding); the payload is skipped by count.
        var frame = new byte[14 + 65536];
        WriteFrame(frame, WebSocketOpcode.Binary, 65536, extendedLength: true);
        _splitFirst = frame.AsSpan(0, 5).ToArray();
        _splitSecond = frame.AsSpan(5).ToArray();

        if (TrackOneSegment() == 0 || TrackHeaderSplitAcrossSpans() != 1)
        {
            throw new InvalidOperationException("The benchmark input does not track as expected.");
        }
    }

    [Benchmark(Description = "Track one 4 KiB segment of masked frames")]
    public long TrackOneSegment()
    {
        var tracker = new FrameTracker(FrameDirection.ClientToRuntime, MaxMessageBytes);
        ReadOnlySpan<byte> data = _segment;
        while (tracker.Track(data, out var consumed) is TrackStatus.DataFrameHeader or TrackStatus.ControlFrame)
        {
            data = data.Slice(consumed);
        }

        return tracker.Frames;
    }

    [Benchmark(Description = "Track a frame whose header is split across two spans")]
    public long TrackHeaderSplitAcrossSpans()
    {
        var tracker = new FrameTracker(FrameDirection.ClientToRuntime, MaxMessageBytes);
        tracker.Track(_splitFirst, out _);
        ReadOnlySpan<byte> data = _splitSecond;
        while (tracker.Track(data, out var consumed) is TrackStatus.DataFrameHeader or TrackStatus.ControlFrame)
        {
            data = data.Slice(consumed);
        }

        return tracker.Frames;
    }

    /// <summary>Writes a masked FIN frame (RFC 6455 §5.2); the payload stays zero, its content does not matter to the tracker.</summary>
    private static int WriteFrame(Span<byte> destination, WebSocketOpcode opcode, int payloadLength, bool extendedLength)
    {
        destination[0] = (byte)(0x80 | (int)opcode);
        int headerLength;
        if (extendedLength)
        {
            destination[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(destination.Slice(2), (ulong)payloadLength);
            headerLength = 14;
        }
        else if (payloadLength < 126)
        {
            destination[1] = (byte)(0x80 | payloadLength);
            headerLength = 6;
        }
        else
        {
            destination[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(2), (ushort)payloadLength);
            headerLength = 8;
        }

        var key = MaskKey;
        MemoryMarshal.Write(destination.Slice(headerLength - 4), in key);
        return headerLength + payloadLength;
    }
}
