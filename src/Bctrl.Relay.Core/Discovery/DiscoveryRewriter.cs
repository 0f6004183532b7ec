using System.Buffers;
using System.Text.Json;

namespace Bctrl.Relay.Discovery;

/// <summary>
/// Rewrites a runtime's discovery document (<c>/json/version</c>, <c>/json/list</c>) as it streams through, so that a
/// document of any size costs a few pooled buffers instead of a parsed tree (issue 8: a 64 MB <c>/json/list</c> cost
/// about 450 MiB as a JsonNode). Every <c>webSocketDebuggerUrl</c> becomes the lease's connection URL plus the socket's
/// path, and every <c>ws=</c>/<c>wss=</c> part of a <c>devtoolsFrontendUrl</c> points at the relay; everything else is
/// copied token by token. The output is byte for byte what parsing into a JsonNode, rewriting and
/// <c>ToJsonString()</c> gave (the same writer defaults), which the tests check against that older code.
/// </summary>
/// <remarks>
/// Input is read straight into a pooled buffer (<see cref="GetInputBuffer"/>, <see cref="Advance"/>); a
/// <see cref="Utf8JsonReader"/> takes every whole token from it, and what it cannot finish yet (a token cut by a read)
/// moves to the front to wait for the next read, with the reader's <see cref="JsonReaderState"/>. That leftover is
/// bounded: past <c>maxTokenBytes</c> the document is refused, so one huge string cannot make the buffer grow without
/// end. Expected failures are values (<see cref="DiscoveryRewriteStatus"/>); after one, the rewriter takes no more.
/// </remarks>
internal sealed partial class DiscoveryRewriter : IDisposable
{
    /// <summary>The largest single token held: Chromium's longest are URLs and titles, far below this.</summary>
    public const int DefaultMaxTokenBytes = 1024 * 1024;

    private const int InitialBufferBytes = 16 * 1024;

    private readonly Utf8JsonWriter _document;
    private readonly int _maxTokenBytes;
    private Utf8JsonWriter _writer;
    private byte[] _input;
    private int _pending;
    private JsonReaderState _state;
    private UrlKind _next;
    private DiscoveryRewriteStatus _status;

    /// <param name="connectionUrl">The lease's connection URL, which every socket URL is rewritten under.</param>
    /// <param name="output">Where the rewritten document goes.</param>
    /// <param name="maxTokenBytes">The largest single token held.</param>
    /// <param name="scopeTarget">
    /// For a lease scoped to one target (docs/scope.md): the elements of a list whose <c>id</c> is not this are dropped.
    /// </param>
    public DiscoveryRewriter(string connectionUrl, IBufferWriter<byte> output, int maxTokenBytes = DefaultMaxTokenBytes, string? scopeTarget = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokenBytes, 16);
        _maxTokenBytes = maxTokenBytes;

        // Default reader and writer options, as JsonNode.Parse and ToJsonString() had: no comments, no trailing commas,
        // depth 64, the default (escaping) encoder.
        _document = new Utf8JsonWriter(output);
        _writer = _document;
        if (scopeTarget is not null)
        {
            _scope = System.Text.Encoding.UTF8.GetBytes(scopeTarget);
            _element = new ArrayBufferWriter<byte>(InitialBufferBytes);
            _elementWriter = new Utf8JsonWriter(_element);
        }
        _state = new JsonReaderState();
        _input = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
        _scratch = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
        _built = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
        (_connectionUrl, _connectionUrlUtf8, _frontendReplacement) = RelayUrls(connectionUrl);
    }

    /// <summary>The free space to read the next input into (never empty while the status is <see cref="DiscoveryRewriteStatus.NeedMoreData"/>).</summary>
    public Memory<byte> GetInputBuffer()
    {
        if (_pending == _input.Length)
        {
            // One token fills the buffer: hold more of it, up to the bound Advance enforces.
            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(_input.Length * 2, _maxTokenBytes + InitialBufferBytes));
            _input.AsSpan(0, _pending).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_input);
            _input = larger;
        }

        return _input.AsMemory(_pending);
    }

    /// <summary>Rewrites what the last <paramref name="count"/> bytes read into <see cref="GetInputBuffer"/> complete.</summary>
    public DiscoveryRewriteStatus Advance(int count) => Process(count, isFinalBlock: false);

    /// <summary>The input has ended: the document must be complete.</summary>
    public DiscoveryRewriteStatus Complete() => Process(0, isFinalBlock: true);

    /// <summary>Copies <paramref name="input"/> in and rewrites it, in as many steps as the buffer needs.</summary>
    public DiscoveryRewriteStatus Write(ReadOnlySpan<byte> input)
    {
        while (!input.IsEmpty && _status == DiscoveryRewriteStatus.NeedMoreData)
        {
            var buffer = GetInputBuffer().Span;
            var count = Math.Min(buffer.Length, input.Length);
            input[..count].CopyTo(buffer);
            input = input[count..];
            Advance(count);
        }

        return _status;
    }

    public void Dispose()
    {
        _document.Dispose();
        _elementWriter?.Dispose();
        ArrayPool<byte>.Shared.Return(_input);
        ArrayPool<byte>.Shared.Return(_scratch);
        ArrayPool<byte>.Shared.Return(_built);
        _input = _scratch = _built = [];
    }

    private DiscoveryRewriteStatus Process(int count, bool isFinalBlock)
    {
        if (_status != DiscoveryRewriteStatus.NeedMoreData)
        {
            return _status;
        }

        _pending += count;
        int consumed;
        try
        {
            var reader = new Utf8JsonReader(_input.AsSpan(0, _pending), isFinalBlock, _state);
            while (reader.Read())
            {
                if (reader.ValueSpan.Length > _maxTokenBytes)
                {
                    // Whole within one read, but over the bound all the same.
                    return _status = DiscoveryRewriteStatus.TokenTooLarge;
                }

                if (!Copy(ref reader))
                {
                    return _status = DiscoveryRewriteStatus.TokenTooLarge;
                }
            }

            consumed = (int)reader.BytesConsumed;
            _state = reader.CurrentState;
            _document.Flush();
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or ArgumentException)
        {
            // JsonException: not JSON. InvalidOperationException: an escape that is no UTF-16 (a lone surrogate).
            // ArgumentException: text the writer refuses (invalid UTF-8).
            return _status = DiscoveryRewriteStatus.InvalidJson;
        }

        // The reader leaves unconsumed the whitespace it ran out of input in, and a separator before it. Whitespace is no
        // token: it is dropped (the separator kept, moved up to the next token) so that megabytes of it neither wait in
        // the buffer nor pass for one huge token.
        consumed += SkipWhitespace(_input.AsSpan(consumed, _pending - consumed));
        if (consumed < _pending && _input[consumed] is (byte)',' or (byte)':')
        {
            var after = SkipWhitespace(_input.AsSpan(consumed + 1, _pending - consumed - 1));
            _input[consumed + after] = _input[consumed];
            consumed += after;
        }

        _input.AsSpan(consumed, _pending - consumed).CopyTo(_input);
        _pending -= consumed;
        if (isFinalBlock)
        {
            return _status = DiscoveryRewriteStatus.Done;
        }

        return _pending > _maxTokenBytes ? _status = DiscoveryRewriteStatus.TokenTooLarge : _status;
    }

    /// <summary>Writes the reader's token, rewritten if it is one of the URLs; false when its rewrite is over the token bound.</summary>
    private bool Copy(ref Utf8JsonReader reader)
    {
        if (_scope is not null && !Filter(ref reader))
        {
            return true;
        }

        var next = _next;
        _next = UrlKind.None;
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                _writer.WriteStartObject();
                break;
            case JsonTokenType.EndObject:
                _writer.WriteEndObject();
                EndElement(ref reader);
                break;
            case JsonTokenType.StartArray:
                _writer.WriteStartArray();
                break;
            case JsonTokenType.EndArray:
                _writer.WriteEndArray();
                EndElement(ref reader);
                break;
            case JsonTokenType.PropertyName:
                _next = reader.ValueTextEquals("webSocketDebuggerUrl"u8) ? UrlKind.Socket
                    : reader.ValueTextEquals("devtoolsFrontendUrl"u8) ? UrlKind.Frontend
                    : UrlKind.None;
                _writer.WritePropertyName(Text(ref reader));
                break;
            case JsonTokenType.String:
                var text = Text(ref reader);
                switch (next)
                {
                    case UrlKind.Socket:
                        WriteSocketUrl(text);
                        break;
                    case UrlKind.Frontend:
                        return WriteFrontendUrl(text);
                    default:
                        _writer.WriteStringValue(text);
                        break;
                }

                break;
            case JsonTokenType.Number:
                // As the number was written, like a JsonElement writes it.
                _writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                break;
            case JsonTokenType.True:
            case JsonTokenType.False:
                _writer.WriteBooleanValue(reader.TokenType == JsonTokenType.True);
                break;
            case JsonTokenType.Null:
                _writer.WriteNullValue();
                break;
            default:
                throw new JsonException($"Unexpected token {reader.TokenType}.");
        }

        return true;
    }

    /// <summary>A string or property name, unescaped (the writer escapes it again, as JsonNode did).</summary>
    private ReadOnlySpan<byte> Text(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan;
        }

        // Unescaped UTF-8 is never longer than its escaped form.
        Ensure(ref _scratch, reader.ValueSpan.Length);
        return _scratch.AsSpan(0, reader.CopyString(_scratch));
    }

    /// <summary>The length of the JSON whitespace (RFC 8259 §2) at the start of <paramref name="bytes"/>.</summary>
    private static int SkipWhitespace(ReadOnlySpan<byte> bytes)
    {
        var length = bytes.IndexOfAnyExcept(" \t\r\n"u8);
        return length < 0 ? bytes.Length : length;
    }

    private static void Ensure(ref byte[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = ArrayPool<byte>.Shared.Rent(length);
        }
    }

    private enum UrlKind
    {
        None,
        Socket,
        Frontend,
    }
}
