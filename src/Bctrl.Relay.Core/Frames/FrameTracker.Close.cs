using System.Buffers.Binary;
using System.Text.Unicode;

namespace Bctrl.Relay.Frames;

internal partial struct FrameTracker
{
    /// <summary>
    /// Whether an endpoint may put <paramref name="code"/> in a close frame (RFC 6455 §7.4.1, §7.4.2, IANA "WebSocket
    /// Close Code Number Registry"): 1000-1003 and 1007-1014 are defined for sending, 3000-4999 are for libraries and
    /// applications. 0-999 are unused; 1004 is reserved; 1005, 1006 and 1015 are "MUST NOT be set as a status code in a
    /// Close control frame by an endpoint"; 1016-2999 are reserved for future revisions; 5000 and up are undefined.
    /// </summary>
    public static bool IsSendableCloseCode(int code)
        => code is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);

    /// <summary>
    /// §5.5.1: a close body is empty, or a 2-byte status code followed by a UTF-8 reason (§8.1: an endpoint that sees
    /// invalid UTF-8 fails the connection). One byte is refused with the header, before this runs.
    /// </summary>
    private static FrameViolation CheckCloseBody(ReadOnlySpan<byte> body)
    {
        if (body.Length < 2)
        {
            return FrameViolation.None;
        }

        if (!IsSendableCloseCode(BinaryPrimitives.ReadUInt16BigEndian(body)))
        {
            return FrameViolation.InvalidCloseCode;
        }

        // Validates in place: no decoding, no allocation.
        return Utf8.IsValid(body.Slice(2)) ? FrameViolation.None : FrameViolation.InvalidCloseReason;
    }
}
