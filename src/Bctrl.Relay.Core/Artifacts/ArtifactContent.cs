using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace Bctrl.Relay.Artifacts;

/// <summary>
/// Reads what a captured message carries, on the artifact pump (off the splice): the base64 <c>data</c> of a result
/// (<c>{"id":N,"result":{"data":"…"}}</c>) or of an event's params (<c>{"method":"Page.screencastFrame","params":{"data":"…",…}}</c>),
/// and the fields of a download event. Every message is the runtime's, so hostile: anything unexpected is "unreadable",
/// never an exception out of here.
/// </summary>
internal static class ArtifactContent
{
    /// <summary>The decoded <c>data</c> of the message's <c>result</c> (or <c>params</c>); null when there is none.</summary>
    public static ReadOnlyMemory<byte>? ReadData(ReadOnlySpan<byte> message, bool inResult)
    {
        try
        {
            var reader = new Utf8JsonReader(message);
            if (!EnterObject(ref reader, inResult ? "result"u8 : "params"u8))
            {
                return null;
            }

            return MoveToProperty(ref reader, "data"u8) && reader.TokenType == JsonTokenType.String ? Decode(ref reader) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// An <c>IO.read</c> result, <c>{"id":N,"result":{"base64Encoded":true,"data":"…","eof":false}}</c>: the chunk's bytes
    /// (decoded when base64, else the text's UTF-8) and whether it is the stream's last. Null when unreadable.
    /// </summary>
    public static (byte[] Data, bool Eof)? ReadChunk(ReadOnlySpan<byte> message)
    {
        try
        {
            var reader = new Utf8JsonReader(message);
            if (!EnterObject(ref reader, "result"u8))
            {
                return null;
            }

            var (base64, eof) = (false, false);
            byte[]? data = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = reader.ValueTextEquals("data"u8) ? 1 : reader.ValueTextEquals("base64Encoded"u8) ? 2 : reader.ValueTextEquals("eof"u8) ? 3 : 0;
                reader.Read();
                switch (field)
                {
                    case 1 when reader.TokenType == JsonTokenType.String:
                        data = System.Text.Encoding.UTF8.GetBytes(reader.GetString()!);
                        break;
                    case 2:
                        base64 = reader.TokenType == JsonTokenType.True;
                        break;
                    case 3:
                        eof = reader.TokenType == JsonTokenType.True;
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (data is null)
            {
                return null;
            }

            if (!base64)
            {
                return (data, eof);
            }

            return FromBase64(data) is { } decoded ? (decoded.ToArray(), eof) : null;
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The message's top-level <c>sessionId</c>, wherever it lies (Chromium writes an event's after its params).</summary>
    public static string? ReadSessionId(ReadOnlySpan<byte> message)
    {
        try
        {
            var reader = new Utf8JsonReader(message);
            return reader.Read() && reader.TokenType == JsonTokenType.StartObject && MoveToProperty(ref reader, "sessionId"u8)
                && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The string at <c>message.outer.inner</c> (a PDF result's <c>result.stream</c>, a read's <c>params.handle</c>); null when absent, not a string, or not JSON.</summary>
    public static string? ReadString(ReadOnlySpan<byte> message, ReadOnlySpan<byte> outer, ReadOnlySpan<byte> inner)
    {
        try
        {
            var reader = new Utf8JsonReader(message);
            return EnterObject(ref reader, outer) && MoveToProperty(ref reader, inner) && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The fields of a download event's params (<c>Browser.downloadWillBegin</c>, <c>Browser.downloadProgress</c>); null when unreadable.</summary>
    public static DownloadEvent? ReadDownload(ReadOnlySpan<byte> message)
    {
        try
        {
            var reader = new Utf8JsonReader(message);
            if (!EnterObject(ref reader, "params"u8))
            {
                return null;
            }

            string? guid = null, name = null, state = null, filePath = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = reader.ValueTextEquals("guid"u8) ? 1 : reader.ValueTextEquals("suggestedFilename"u8) ? 2
                    : reader.ValueTextEquals("state"u8) ? 3 : reader.ValueTextEquals("filePath"u8) ? 4 : 0;
                reader.Read();
                if (field == 0 || reader.TokenType != JsonTokenType.String)
                {
                    reader.Skip();
                    continue;
                }

                var value = reader.GetString();
                _ = field switch
                {
                    1 => guid = value,
                    2 => name = value,
                    3 => state = value,
                    _ => filePath = value,
                };
            }

            return guid is null ? null : new DownloadEvent(guid, name, state, filePath);
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// A string from the runtime as the relay keeps it beyond its message (a session id, a stream handle, a download's
    /// name): null when longer than <paramref name="max"/>, control characters replaced, so no runtime can make a record,
    /// a table or a key as large as its message.
    /// </summary>
    public static string? Bounded(string? value, int max)
    {
        if (value is null || value.Length > max)
        {
            return null;
        }

        return value.AsSpan().ContainsAnyInRange('\0', '\x1f') || value.Contains('\x7f') ? string.Create(value.Length, value, static (chars, text) =>
        {
            for (var i = 0; i < text.Length; i++)
            {
                chars[i] = char.IsControl(text[i]) ? '_' : text[i];
            }
        }) : value;
    }

    /// <summary>What the bytes are, by their first bytes; <c>application/octet-stream</c> when unknown.</summary>
    public static string ContentTypeOf(ReadOnlySpan<byte> content) => content switch
    {
        [0x89, (byte)'P', (byte)'N', (byte)'G', ..] => "image/png",
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "image/webp",
        [(byte)'%', (byte)'P', (byte)'D', (byte)'F', ..] => "application/pdf",
        _ => "application/octet-stream",
    };

    /// <summary>Moves the reader into the top-level property <paramref name="name"/>'s object; false when absent.</summary>
    private static bool EnterObject(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
        => reader.Read() && reader.TokenType == JsonTokenType.StartObject && MoveToProperty(ref reader, name) && reader.TokenType == JsonTokenType.StartObject;

    /// <summary>
    /// Reads the properties of the object the reader is in until <paramref name="name"/>, skipping the others' values;
    /// true with the reader on its value, false at the object's end.
    /// </summary>
    private static bool MoveToProperty(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var found = reader.ValueTextEquals(name);
            reader.Read();
            if (found)
            {
                return true;
            }

            reader.Skip();
        }

        return false;
    }

    /// <summary>The string value under the reader, base64-decoded; a writer that escapes '/' as "\/" is unescaped first.</summary>
    private static ReadOnlyMemory<byte>? Decode(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return FromBase64(reader.ValueSpan);
        }

        var unescaped = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
        try
        {
            return FromBase64(unescaped.AsSpan(0, reader.CopyString(unescaped)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(unescaped);
        }
    }

    private static ReadOnlyMemory<byte>? FromBase64(ReadOnlySpan<byte> text)
    {
        var decoded = new byte[Base64.GetMaxDecodedFromUtf8Length(text.Length)];
        if (Base64.DecodeFromUtf8(text, decoded, out _, out var written) != OperationStatus.Done)
        {
            return null; // (a bare null in a conditional would become an empty array, not "none")
        }

        return decoded.AsMemory(0, written);
    }
}

/// <summary>The fields of a download event the relay uses; <see cref="State"/> only on progress events.</summary>
internal sealed record DownloadEvent(string Guid, string? SuggestedFilename, string? State, string? FilePath);
