using System.Text;

namespace Bctrl.Relay.Load;

/// <summary>
/// Messages of an exact size that look like CDP traffic (ASCII JSON text), so a relay that samples CDP (docs/design.md §6)
/// does its real work: the client sends commands (<c>id</c>, <c>method</c>, <c>params</c>), the runtime answers each
/// with a result of the same size and the same <c>id</c> (<c>id</c>, <c>result</c>), or streams events (<c>method</c>,
/// <c>params</c>) with base64-like data.
/// </summary>
/// <remarks>
/// The <c>id</c> is a field of <see cref="IdWidth"/> characters, digits then spaces (JSON allows the whitespace), so
/// every command of an attach can carry a new id without changing the message's size or allocating, and the runtime
/// turns a command into its result in place: it rewrites the head and the tail and keeps the id and the filler,
/// which depends only on the byte's position.
/// </remarks>
internal static class CdpPayload
{
    /// <summary>The first message of a stream attach asks the fake runtime to stream events of this size: <c>STREAM &lt;bytes&gt;</c>.</summary>
    public const string StreamRequestPrefix = "STREAM ";

    /// <summary>Characters of the <c>id</c> field: enough for any <see cref="long"/> id a run reaches.</summary>
    public const int IdWidth = 12;

    private const string IdHead = "{\"id\":";
    private const string CommandHead = ",\"method\":\"Runtime.evaluate\",\"params\":{\"expression\":\"";
    private const string CommandTail = "\"}}";
    private const string ResultHead = ",\"result\":{\"result\":{\"type\":\"string\",\"value\":\"";
    private const string ResultTail = "\"}}}";
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    private const int IdOffset = 6; // IdHead.Length
    private const int CommandHeadEnd = IdOffset + IdWidth + 53; // + CommandHead.Length

    private static readonly byte[] s_idHead = Encoding.ASCII.GetBytes(IdHead);
    private static readonly byte[] s_commandHead = Encoding.ASCII.GetBytes(CommandHead);
    private static readonly byte[] s_commandTail = Encoding.ASCII.GetBytes(CommandTail);
    private static readonly byte[] s_resultTail = Encoding.ASCII.GetBytes(ResultTail);

    /// <summary>Bytes <c>[IdOffset + IdWidth, CommandHeadEnd)</c> of any result: its head, then filler up to where a command's head ends.</summary>
    private static readonly byte[] s_resultOverlay = ResultOverlay();

    /// <summary>The smallest command (and result): heads, a one-digit id field and the tails must not overlap.</summary>
    public static int MinSize => CommandHeadEnd + ResultTail.Length;

    /// <summary>A <c>Runtime.evaluate</c> command of <paramref name="size"/> bytes with <c>id</c> 1.</summary>
    public static byte[] Command(int size) => Pad(IdHead + Id(1) + CommandHead, CommandTail, size);

    /// <summary>The result the fake runtime answers <see cref="Command"/> with: the same size and <c>id</c>.</summary>
    public static byte[] Result(int size) => Pad(IdHead + Id(1) + ResultHead, ResultTail, size);

    public static byte[] Event(int size) => Pad("{\"method\":\"Page.screencastFrame\",\"params\":{\"sessionId\":1,\"data\":\"", "\"}}", size);

    /// <summary>A small CDP-like message that is not a command, so the fake runtime echoes it whole (attach rate, idle).</summary>
    public static byte[] Ping(int size) => Pad("{\"method\":\"Load.ping\",\"params\":{\"d\":\"", "\"}}", size);

    public static byte[] StreamRequest(int size) => Encoding.ASCII.GetBytes(StreamRequestPrefix + size.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Writes <paramref name="id"/> into the id field of a <see cref="Command"/> or <see cref="Result"/>.</summary>
    public static void WriteId(Span<byte> message, long id)
    {
        var field = message.Slice(IdOffset, IdWidth);
        if (!id.TryFormat(field, out var written, default, System.Globalization.CultureInfo.InvariantCulture) || id < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, "Does not fit the id field.");
        }

        field[written..].Fill((byte)' ');
    }

    /// <summary>
    /// Turns a <see cref="Command"/> (any id) into its <see cref="Result"/>, in place, the way a runtime answers; false,
    /// and nothing changed, for a message that is not such a command.
    /// </summary>
    public static bool TryAnswerInPlace(Span<byte> message)
    {
        if (message.Length < MinSize
            || !message.StartsWith(s_idHead)
            || !message[(IdOffset + IdWidth)..CommandHeadEnd].SequenceEqual(s_commandHead)
            || !message.EndsWith(s_commandTail))
        {
            return false;
        }

        s_resultOverlay.CopyTo(message[(IdOffset + IdWidth)..]);
        s_resultTail.CopyTo(message[^s_resultTail.Length..]);
        return true;
    }

    private static string Id(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture).PadRight(IdWidth);

    private static byte[] ResultOverlay()
    {
        if (IdHead.Length != IdOffset || CommandHeadEnd != IdOffset + IdWidth + CommandHead.Length || ResultHead.Length > CommandHead.Length)
        {
            throw new InvalidOperationException("CdpPayload's layout constants disagree with its heads.");
        }

        return Result(MinSize)[(IdOffset + IdWidth)..CommandHeadEnd];
    }

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
        for (var i = prefix.Length; i < size - suffix.Length; i++)
        {
            bytes[i] = (byte)Alphabet[(i * 7) % Alphabet.Length];
        }

        suffix.CopyTo(bytes, size - suffix.Length);
        return bytes;
    }
}
