using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Bctrl.Relay.Policy;

/// <summary>What <see cref="CdpCommandScanner"/> knows after the bytes fed so far.</summary>
internal enum CommandScan : byte
{
    /// <summary>No <c>method</c> yet; feed more.</summary>
    NeedMore,

    /// <summary>The top-level <c>method</c> has been read whole (<see cref="CdpCommandScanner.Method"/>); the rest is still read for <c>id</c>, <c>sessionId</c> and a second <c>method</c>.</summary>
    MethodRead,

    /// <summary>The message cannot be read as a command the policy can judge: it is refused, whatever its method (fail closed).</summary>
    Refused,
}

/// <summary>
/// Reads the top level of a CDP command (<c>{"id":1,"method":"Page.navigate","params":{…},"sessionId":"…"}</c>) as
/// it streams past, in pieces split anywhere, without allocating and without holding the message: it keeps only the
/// state of one JSON object's top level, the method (at most <see cref="MaxMethodBytes"/>), the session id and the
/// numeric id. Nested values, however large (a 100 KiB <c>params</c> before the method), are skipped.
/// </summary>
/// <remarks>
/// The policy (issue 11) must hold whatever the client writes, so anything the scanner cannot judge is
/// <see cref="CommandScan.Refused"/>, never let through:
/// <list type="bullet">
/// <item>a message whose top level is not an object, or whose structure breaks (a stray character, an unbalanced
/// bracket, a second top-level value);</item>
/// <item>a <c>method</c> that is not a string, is empty or longer than <see cref="MaxMethodBytes"/>, or holds an escape:
/// the runtime would read <c>"Browser\u002eclose"</c> as <c>Browser.close</c>, and the scanner compares bytes;</item>
/// <item>a key given twice at the top level (<c>id</c>, <c>method</c> or <c>sessionId</c>): a parser that keeps the
/// last value would run another method than the one judged;</item>
/// <item>a top-level key with an escape (it might spell <c>method</c>);</item>
/// <item>a message that ends (<see cref="Complete"/>) before its object closes, or without a method.</item>
/// </list>
/// The scanner does not validate JSON in full: the runtime's own parser refuses malformed input, and nothing the
/// scanner lets through can name another method than the one it read.
/// </remarks>
internal struct CdpCommandScanner
{
    public const int MaxMethodBytes = 128;
    public const int MaxSessionIdBytes = 128;
    private const int MaxKeyBytes = 9; // "sessionId"

    private static readonly SearchValues<byte> s_stringSpecials = SearchValues.Create("\"\\"u8);
    // '/' too: the runtime's parser skips // and /* */ comments, which could hide a bracket or a quote from the scanner.
    private static readonly SearchValues<byte> s_nestedSpecials = SearchValues.Create("\"{}[]/"u8);

    private Phase _phase;
    private Field _field;
    private int _nested;
    private int _captured;
    private bool _escape;
    private bool _valueStringEscaped;
    private bool _negative;
    private int _idDigits;
    private Seen _seen;
    private Seen _seenKeys;
    private ByteBuffer128 _method;
    private int _methodLength;
    private ByteBuffer128 _session;
    private int _sessionLength;
    private KeyBuffer _key;
    private long _id;

    private enum Phase : byte
    {
        Start,
        ObjectOpen,     // after '{': a key or '}'
        Key,            // inside a key's quotes
        Colon,          // after a key: ':'
        Value,          // after ':': the value's first byte
        StringValue,    // inside a top-level string value
        ScalarValue,    // a number, true, false or null
        NestedValue,    // inside a top-level object or array value
        NestedString,   // inside a string within a nested value
        AfterValue,     // ',' or '}'
        AfterKeyComma,  // after ',': a key
        Done,           // the top-level object closed; only whitespace may follow
        Refused,
    }

    private enum Field : byte
    {
        Other,
        Id,
        Method,
        SessionId,
    }

    [Flags]
    private enum Seen : byte
    {
        None = 0,
        Id = 1,
        Method = 2,
        SessionId = 4,
    }

    /// <summary>The top-level method, as its bytes (no escapes); empty until <see cref="CommandScan.MethodRead"/>.</summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<byte> Method => _phase == Phase.Refused || (_seen & Seen.Method) == 0
        ? default
        : ((ReadOnlySpan<byte>)_method)[.._methodLength];

    /// <summary>The top-level <c>sessionId</c> (flattened sessions), empty when none has been read.</summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<byte> SessionId => (_seen & Seen.SessionId) == 0 ? default : ((ReadOnlySpan<byte>)_session)[.._sessionLength];

    /// <summary>Whether a whole integer <c>id</c> has been read at the top level.</summary>
    public readonly bool HasId => (_seen & Seen.Id) != 0 && _idDigits > 0;

    public readonly long Id => _negative ? -_id : _id;

    /// <summary>What is known now.</summary>
    public readonly CommandScan State => _phase == Phase.Refused
        ? CommandScan.Refused
        : (_seen & Seen.Method) != 0 ? CommandScan.MethodRead : CommandScan.NeedMore;

    /// <summary>Reads the next unmasked bytes of the message.</summary>
    public CommandScan Feed(ReadOnlySpan<byte> bytes)
    {
        var i = 0;
        while (i < bytes.Length && _phase != Phase.Refused)
        {
            switch (_phase)
            {
                case Phase.StringValue:
                    i += ReadString(bytes[i..], value: true);
                    break;
                case Phase.Key:
                    i += ReadString(bytes[i..], value: false);
                    break;
                case Phase.NestedString:
                    i += SkipNestedString(bytes[i..]);
                    break;
                case Phase.NestedValue:
                    i += SkipNested(bytes[i..]);
                    break;
                default:
                    Step(bytes[i]);
                    i++;
                    break;
            }
        }

        return State;
    }

    /// <summary>The message ended: refused unless its object closed and it named a method.</summary>
    public CommandScan Complete()
    {
        if (_phase == Phase.ScalarValue)
        {
            _phase = Phase.Refused; // the object never closed after its last value
        }

        if (_phase != Phase.Done || (_seen & Seen.Method) == 0)
        {
            _phase = Phase.Refused;
        }

        return State;
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    private void Step(byte b)
    {
        switch (_phase)
        {
            case Phase.Start:
                if (b == (byte)'{')
                {
                    _phase = Phase.ObjectOpen;
                }
                else if (!IsSpace(b))
                {
                    _phase = Phase.Refused;
                }

                break;
            case Phase.ObjectOpen:
            case Phase.AfterKeyComma:
                if (b == (byte)'"')
                {
                    _phase = Phase.Key;
                    _captured = 0;
                    _escape = false;
                    _valueStringEscaped = false;
                }
                else if (b == (byte)'}' && _phase == Phase.ObjectOpen)
                {
                    _phase = Phase.Done;
                }
                else if (!IsSpace(b))
                {
                    _phase = Phase.Refused;
                }

                break;
            case Phase.Colon:
                if (b == (byte)':')
                {
                    _phase = Phase.Value;
                }
                else if (!IsSpace(b))
                {
                    _phase = Phase.Refused;
                }

                break;
            case Phase.Value:
                StartValue(b);
                break;
            case Phase.ScalarValue:
                if (b == (byte)',' || b == (byte)'}' || IsSpace(b))
                {
                    EndScalar();
                    if (_phase != Phase.Refused)
                    {
                        _phase = Phase.AfterValue;
                        Step(b);
                    }
                }
                else if (!IsScalarByte(b))
                {
                    _phase = Phase.Refused; // not part of a number, true, false or null: a comment, a quote
                }
                else if (_field == Field.Id)
                {
                    ReadIdByte(b);
                }

                break;
            case Phase.AfterValue:
                if (b == (byte)',')
                {
                    _phase = Phase.AfterKeyComma;
                }
                else if (b == (byte)'}')
                {
                    _phase = Phase.Done;
                }
                else if (!IsSpace(b))
                {
                    _phase = Phase.Refused;
                }

                break;
            case Phase.Done:
                if (!IsSpace(b))
                {
                    _phase = Phase.Refused; // a second value after the object
                }

                break;
        }
    }

    private void StartValue(byte b)
    {
        if (IsSpace(b))
        {
            return;
        }

        switch (b)
        {
            case (byte)'"':
                if (_field == Field.Id)
                {
                    _phase = Phase.Refused; // an id that is a string: not a command the runtime answers by id
                    return;
                }

                _phase = Phase.StringValue;
                _captured = 0;
                _escape = false;
                _valueStringEscaped = false;
                return;
            case (byte)'{' or (byte)'[':
                if (_field != Field.Other)
                {
                    _phase = Phase.Refused;
                    return;
                }

                _phase = Phase.NestedValue;
                _nested = 1;
                return;
            default:
                if (_field is Field.Method or Field.SessionId)
                {
                    _phase = Phase.Refused; // a method or session that is not a string
                    return;
                }

                if (b is not ((>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'t' or (byte)'f' or (byte)'n'))
                {
                    _phase = Phase.Refused; // no JSON value starts so: a comment to the runtime's parser
                    return;
                }

                _phase = Phase.ScalarValue;
                if (_field == Field.Id)
                {
                    _id = 0;
                    _idDigits = 0;
                    _negative = false;
                    ReadIdByte(b);
                }

                return;
        }
    }

    /// <summary>The bytes of a number, <c>true</c>, <c>false</c> or <c>null</c>; anything else in a scalar is refused.</summary>
    private static bool IsScalarByte(byte b) => b is (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'+' or (byte)'.'
        or (byte)'e' or (byte)'E' or (byte)'t' or (byte)'r' or (byte)'u' or (byte)'f' or (byte)'a' or (byte)'l' or (byte)'s' or (byte)'n';

    private void ReadIdByte(byte b)
    {
        if (_idDigits < 0)
        {
            return; // already not an integer the relay can echo
        }

        if (b == (byte)'-' && _idDigits == 0 && !_negative)
        {
            _negative = true;
        }
        else if (b is >= (byte)'0' and <= (byte)'9' && _idDigits < 18)
        {
            _id = (_id * 10) + (b - '0');
            _idDigits++;
        }
        else
        {
            _idDigits = -1; // not an integer the relay can echo: no id
        }
    }

    private void EndScalar()
    {
        if (_field == Field.Id && _idDigits > 0)
        {
            _seen |= Seen.Id;
        }
    }

    /// <summary>Reads inside a key or a top-level string value from its first byte after the quote; returns the bytes taken.</summary>
    private int ReadString(ReadOnlySpan<byte> bytes, bool value)
    {
        var i = 0;
        while (i < bytes.Length)
        {
            if (_escape)
            {
                _escape = false;
                i++;
                continue;
            }

            var special = bytes[i..].IndexOfAny(s_stringSpecials);
            var run = special < 0 ? bytes[i..] : bytes.Slice(i, special);
            Capture(run, value);
            if (_phase == Phase.Refused)
            {
                return bytes.Length;
            }

            if (special < 0)
            {
                return bytes.Length;
            }

            i += special;
            if (bytes[i] == (byte)'\\')
            {
                _escape = true;
                _valueStringEscaped = true;
                i++;
                continue;
            }

            // The closing quote.
            i++;
            if (value)
            {
                EndStringValue();
            }
            else
            {
                EndKey();
            }

            return i;
        }

        return i;
    }

    private void Capture(ReadOnlySpan<byte> run, bool value)
    {
        if (run.IsEmpty)
        {
            return;
        }

        if (!value)
        {
            // A key: only the first MaxKeyBytes + 1 bytes matter (longer is "other").
            var room = Math.Min(run.Length, MaxKeyBytes + 1 - _captured);
            if (room > 0)
            {
                run[..room].CopyTo(((Span<byte>)_key)[_captured..]);
            }

            _captured = Math.Min(_captured + run.Length, MaxKeyBytes + 1);
            return;
        }

        switch (_field)
        {
            case Field.Method:
                if (_captured + run.Length > MaxMethodBytes)
                {
                    _phase = Phase.Refused;
                    return;
                }

                run.CopyTo(((Span<byte>)_method)[_captured..]);
                _captured += run.Length;
                break;
            case Field.SessionId:
                if (_captured + run.Length > MaxSessionIdBytes)
                {
                    _phase = Phase.Refused;
                    return;
                }

                run.CopyTo(((Span<byte>)_session)[_captured..]);
                _captured += run.Length;
                break;
        }
    }

    private void EndKey()
    {
        if (_valueStringEscaped)
        {
            _phase = Phase.Refused; // an escaped key might spell "method"
            return;
        }

        var key = ((ReadOnlySpan<byte>)_key)[..Math.Min(_captured, MaxKeyBytes + 1)];
        _field = _captured > MaxKeyBytes ? Field.Other
            : key.SequenceEqual("id"u8) ? Field.Id
            : key.SequenceEqual("method"u8) ? Field.Method
            : key.SequenceEqual("sessionId"u8) ? Field.SessionId
            : Field.Other;
        var flag = _field switch
        {
            Field.Id => Seen.Id,
            Field.Method => Seen.Method,
            Field.SessionId => Seen.SessionId,
            _ => Seen.None,
        };
        if (flag != Seen.None && (_seenKeys & flag) != 0)
        {
            _phase = Phase.Refused; // the same key twice
            return;
        }

        _seenKeys |= flag;
        _phase = Phase.Colon;
    }

    private void EndStringValue()
    {
        switch (_field)
        {
            case Field.Method:
                if (_valueStringEscaped || _captured == 0)
                {
                    _phase = Phase.Refused;
                    return;
                }

                _methodLength = _captured;
                _seen |= Seen.Method;
                break;
            case Field.SessionId:
                if (_valueStringEscaped)
                {
                    _phase = Phase.Refused;
                    return;
                }

                _sessionLength = _captured;
                _seen |= Seen.SessionId;
                break;
        }

        _phase = Phase.AfterValue;
    }

    /// <summary>Skips inside a nested value, counting brackets outside strings; returns the bytes taken.</summary>
    private int SkipNested(ReadOnlySpan<byte> bytes)
    {
        var i = 0;
        while (i < bytes.Length)
        {
            var special = bytes[i..].IndexOfAny(s_nestedSpecials);
            if (special < 0)
            {
                return bytes.Length;
            }

            i += special;
            switch (bytes[i++])
            {
                case (byte)'"':
                    _phase = Phase.NestedString;
                    _escape = false;
                    return i;
                case (byte)'{' or (byte)'[':
                    _nested++;
                    break;
                case (byte)'/':
                    _phase = Phase.Refused; // a comment, to the runtime's parser
                    return i;
                default:
                    if (--_nested == 0)
                    {
                        _phase = Phase.AfterValue;
                        return i;
                    }

                    break;
            }
        }

        return i;
    }

    private int SkipNestedString(ReadOnlySpan<byte> bytes)
    {
        var i = 0;
        while (i < bytes.Length)
        {
            if (_escape)
            {
                _escape = false;
                i++;
                continue;
            }

            var special = bytes[i..].IndexOfAny(s_stringSpecials);
            if (special < 0)
            {
                return bytes.Length;
            }

            i += special;
            if (bytes[i++] == (byte)'\\')
            {
                _escape = true;
                continue;
            }

            _phase = Phase.NestedValue;
            return i;
        }

        return i;
    }

    [InlineArray(MaxMethodBytes)]
    private struct ByteBuffer128
    {
        private byte _first;
    }

    [InlineArray(MaxKeyBytes + 1)]
    private struct KeyBuffer
    {
        private byte _first;
    }
}
