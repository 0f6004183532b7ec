using System.Text.Json;

namespace Bctrl.Relay.LiveView;

/// <summary>
/// One input message from a viewer page, checked field by field (docs/live-view.md, "Input"): the page is untrusted, so
/// anything unknown, missing, out of range or too long refuses the whole message. Coordinates are fractions of the
/// shown frame (0-1); the session scales them to the viewed page's size.
/// </summary>
/// <remarks>
/// <code>
/// {"type": "mouse", "event": "mouseMoved" | "mousePressed" | "mouseReleased" | "mouseWheel",
///  "x": 0-1, "y": 0-1, "button": "none" | "left" | "middle" | "right", "buttons": 0-7, "clickCount": 0-3,
///  "deltaX": ±10000, "deltaY": ±10000, "modifiers": 0-15}
/// {"type": "key", "event": "keyDown" | "keyUp" | "char", "key": "a", "code": "KeyA", "text": "a",
///  "keyCode": 0-255, "modifiers": 0-15}
/// </code>
/// Only <c>type</c>, <c>event</c> and, for the mouse, <c>x</c> and <c>y</c> are required.
/// </remarks>
internal sealed record LiveInput(
    bool IsKey,
    string Event,
    double X = 0,
    double Y = 0,
    string Button = "none",
    int Buttons = 0,
    int ClickCount = 0,
    double DeltaX = 0,
    double DeltaY = 0,
    int Modifiers = 0,
    string Key = "",
    string Code = "",
    string Text = "",
    int KeyCode = 0)
{
    /// <summary>The longest input message read; a longer one is refused unread.</summary>
    public const int MaxMessageBytes = 1024;

    private const int MaxNameLength = 32;
    private const int MaxTextLength = 4;
    private const double MaxDelta = 10_000;

    private static readonly string[] MouseEvents = ["mouseMoved", "mousePressed", "mouseReleased", "mouseWheel"];
    private static readonly string[] KeyEvents = ["keyDown", "keyUp", "char"];
    private static readonly string[] ButtonNames = ["none", "left", "middle", "right"];

    /// <summary>The message as input, or null when anything about it is wrong.</summary>
    public static LiveInput? Parse(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length is 0 or > MaxMessageBytes)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 1 });
            using var document = JsonDocument.ParseValue(ref reader);
            return FromJson(document.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static LiveInput? FromJson(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var isKey = type.ValueEquals("key");
        if (!isKey && !type.ValueEquals("mouse"))
        {
            return null;
        }

        var input = new LiveInput(isKey, string.Empty);
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            input = (property.Name, isKey) switch
            {
                ("type", _) => input,
                ("event", _) => OneOf(value, isKey ? KeyEvents : MouseEvents) is { } name ? input with { Event = name } : null,
                ("modifiers", _) => Integer(value, 0, 15) is { } modifiers ? input with { Modifiers = modifiers } : null,
                ("x", false) => Number(value, 0, 1) is { } x ? input with { X = x } : null,
                ("y", false) => Number(value, 0, 1) is { } y ? input with { Y = y } : null,
                ("button", false) => OneOf(value, ButtonNames) is { } button ? input with { Button = button } : null,
                ("buttons", false) => Integer(value, 0, 7) is { } buttons ? input with { Buttons = buttons } : null,
                ("clickCount", false) => Integer(value, 0, 3) is { } clicks ? input with { ClickCount = clicks } : null,
                ("deltaX", false) => Number(value, -MaxDelta, MaxDelta) is { } dx ? input with { DeltaX = dx } : null,
                ("deltaY", false) => Number(value, -MaxDelta, MaxDelta) is { } dy ? input with { DeltaY = dy } : null,
                ("key", true) => ShortText(value, MaxNameLength, allowReturn: false) is { } key ? input with { Key = key } : null,
                ("code", true) => ShortText(value, MaxNameLength, allowReturn: false) is { } code ? input with { Code = code } : null,
                ("text", true) => ShortText(value, MaxTextLength, allowReturn: true) is { } text ? input with { Text = text } : null,
                ("keyCode", true) => Integer(value, 0, 255) is { } keyCode ? input with { KeyCode = keyCode } : null,
                _ => null,
            };
            if (input is null)
            {
                return null;
            }
        }

        var positioned = isKey || (root.TryGetProperty("x", out _) && root.TryGetProperty("y", out _));
        return input.Event.Length > 0 && positioned ? input : null;
    }

    private static string? OneOf(JsonElement value, string[] names)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        foreach (var name in names)
        {
            if (value.ValueEquals(name))
            {
                return name;
            }
        }

        return null;
    }

    private static int? Integer(JsonElement value, int min, int max)
        => value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= min && number <= max ? number : null;

    private static double? Number(JsonElement value, double min, double max)
        => value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number) && number >= min && number <= max ? number : null;

    /// <summary>A short string with no control characters (a carriage return only where <paramref name="allowReturn"/>: Enter's text).</summary>
    private static string? ShortText(JsonElement value, int maxLength, bool allowReturn)
    {
        if (value.ValueKind != JsonValueKind.String || value.GetString() is not { } text || text.Length > maxLength)
        {
            return null;
        }

        foreach (var c in text)
        {
            if (char.IsControl(c) && !(allowReturn && c == '\r'))
            {
                return null;
            }
        }

        return text;
    }
}
