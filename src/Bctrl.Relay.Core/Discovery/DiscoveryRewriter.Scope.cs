using System.Buffers;
using System.Text.Json;

namespace Bctrl.Relay.Discovery;

/// <summary>
/// The list of a scoped lease (docs/scope.md): of a root array (<c>/json/list</c>, <c>/json</c>), only the elements
/// whose own <c>id</c> is the scope target go out. An element is rewritten as usual, but into a buffer of its own; at its
/// end it is written to the document as one raw value if its id matched, and dropped otherwise. Where the <c>id</c>
/// comes within the element does not matter (Chromium writes it after <c>devtoolsFrontendUrl</c> and <c>faviconUrl</c>),
/// and at most one element is held at a time. Only the element's own <c>id</c> counts (a property at depth 2, not one
/// of a nested object); an element that is not an object, or has no <c>id</c>, or whose <c>id</c> is not a string equal
/// to the scope (any of them, should it repeat), is dropped: the filter fails closed.
/// </summary>
internal sealed partial class DiscoveryRewriter
{
    // Depths as Utf8JsonReader counts them: the root's tokens at 0, an element of the root array at 1, its properties at 2.
    private const int ElementDepth = 1;
    private const int ElementPropertyDepth = 2;

    private readonly byte[]? _scope;
    private readonly ArrayBufferWriter<byte>? _element;
    private readonly Utf8JsonWriter? _elementWriter;
    private bool _rootIsArray;
    private bool _inElement;
    private bool _nextIsId;
    private bool _idMatched;
    private bool _idMismatched;

    /// <summary>
    /// Sees the token before it is copied: starts an element's buffer, notes its id. False when the token is dropped
    /// right away (a scalar element of the list, which has no id).
    /// </summary>
    private bool Filter(ref Utf8JsonReader reader)
    {
        var depth = reader.CurrentDepth;
        var nextIsId = _nextIsId;
        _nextIsId = false;
        if (depth == 0)
        {
            _rootIsArray = reader.TokenType == JsonTokenType.StartArray;
            return true;
        }

        if (!_rootIsArray)
        {
            return true;
        }

        if (depth == ElementDepth && !_inElement)
        {
            if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
            {
                return false;
            }

            _inElement = true;
            _idMatched = _idMismatched = false;
            _writer = _elementWriter!;
            return true;
        }

        if (depth == ElementPropertyDepth)
        {
            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                _nextIsId = reader.ValueTextEquals("id"u8);
            }
            else if (nextIsId)
            {
                var matched = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(_scope);
                _idMatched |= matched;
                _idMismatched |= !matched;
            }
        }

        return true;
    }

    /// <summary>After an object or array has ended: if it was an element of the list, keep it or drop it.</summary>
    private void EndElement(ref Utf8JsonReader reader)
    {
        if (!_inElement || reader.CurrentDepth != ElementDepth)
        {
            return;
        }

        _elementWriter!.Flush();
        if (_idMatched && !_idMismatched)
        {
            _document.WriteRawValue(_element!.WrittenSpan, skipInputValidation: true);
        }

        _element!.ResetWrittenCount();
        _elementWriter.Reset();
        _writer = _document;
        _inElement = false;
    }
}
