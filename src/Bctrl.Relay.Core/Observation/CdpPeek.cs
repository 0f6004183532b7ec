using System.Text.Json;

namespace Bctrl.Relay.Observation;

/// <summary>What the sampler reads from the start of a CDP message.</summary>
internal ref struct CdpPeekResult
{
    public long Id;
    public bool HasId;
    public ReadOnlySpan<byte> Method;
    public ReadOnlySpan<byte> SessionId;
    public bool HasError;
    public bool HasResult;

    /// <summary>The prefix held the whole message, so its top level was read to the end.</summary>
    public bool Complete;

    /// <summary>Where <c>params</c> starts and ends in the prefix (both 0 when absent or cut off).</summary>
    public int ParamsStart;
    public int ParamsEnd;
}

/// <summary>
/// Reads the top level of a CDP message (<c>{"id":1,"method":"Page.navigate","params":{…},"sessionId":"…"}</c>) from a
/// bounded, unmasked prefix with <see cref="Utf8JsonReader"/>, without allocating. A prefix that ends mid-message is
/// read as far as it goes: an <c>id</c> written after a large <c>params</c> is then not seen (docs/design.md §6: sampling reads
/// only a bounded prefix).
/// </summary>
internal static class CdpPeek
{
    public static bool TryRead(ReadOnlySpan<byte> prefix, bool isWholeMessage, out CdpPeekResult result)
    {
        result = default;
        if (prefix.IsEmpty || prefix[0] != (byte)'{')
        {
            return false;
        }

        var reader = new Utf8JsonReader(prefix, isFinalBlock: isWholeMessage, state: default);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    result.Complete = true;
                    break;
                }

                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    return false;
                }

                var name = reader.ValueSpan;
                if (!reader.Read())
                {
                    break;
                }

                if (name.SequenceEqual("id"u8) && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var id))
                {
                    result.Id = id;
                    result.HasId = true;
                }
                else if (name.SequenceEqual("method"u8) && reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped)
                {
                    result.Method = reader.ValueSpan;
                }
                else if (name.SequenceEqual("sessionId"u8) && reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped)
                {
                    result.SessionId = reader.ValueSpan;
                }
                else
                {
                    var start = (int)reader.TokenStartIndex;
                    if (name.SequenceEqual("error"u8))
                    {
                        result.HasError = true;
                    }
                    else if (name.SequenceEqual("result"u8))
                    {
                        result.HasResult = true;
                    }

                    if (!reader.TrySkip())
                    {
                        break; // the value runs past the prefix
                    }

                    if (name.SequenceEqual("params"u8))
                    {
                        result.ParamsStart = start;
                        result.ParamsEnd = (int)reader.BytesConsumed;
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON after all, or cut in a way the reader rejects: keep what was read.
        }

        return result.HasId || !result.Method.IsEmpty;
    }
}
