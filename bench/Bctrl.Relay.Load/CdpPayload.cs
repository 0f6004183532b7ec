using System.Text;

namespace Bctrl.Relay.Load;

/// <summary>
/// Messages of an exact size that look like CDP traffic (ASCII JSON text), so a relay that samples CDP (design §6)
/// sees realistic frames: a command for the client's side, an event with base64-like data for the runtime's.
/// </summary>
internal static class CdpPayload
{
    /// <summary>The first message of a stream attach asks the fake runtime to stream events of this size: <c>STREAM &lt;bytes&gt;</c>.</summary>
    public const string StreamRequestPrefix = "STREAM ";

    public static byte[] Command(int size) => Pad("{\"id\":1,\"method\":\"Runtime.evaluate\",\"params\":{\"expression\":\"", "\"}}", size);

    public static byte[] Event(int size) => Pad("{\"method\":\"Page.screencastFrame\",\"params\":{\"sessionId\":1,\"data\":\"", "\"}}", size);

    public static byte[] StreamRequest(int size) => Encoding.ASCII.GetBytes(StreamRequestPrefix + size.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static byte[] Pad(string head, string tail, int size)
    {
        var bytes = new byte[size];
        var prefix = Encoding.ASCII.GetBytes(head);
        var suffix = Encoding.ASCII.GetBytes(tail);
        if (size < prefix.Length + suffix.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "Too small for a CDP-like message.");
        }

        prefix.CopyTo(bytes, 0);
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (var i = prefix.Length; i < size - suffix.Length; i++)
        {
            bytes[i] = (byte)alphabet[(i * 7) % alphabet.Length];
        }

        suffix.CopyTo(bytes, size - suffix.Length);
        return bytes;
    }
}
