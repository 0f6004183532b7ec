using System.Globalization;

namespace Bctrl.Relay.Cli;

/// <summary>An aligned text table: a header row and columns padded to their widest cell, two spaces apart.</summary>
internal sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public Table Add(params string?[] cells)
    {
        _rows.Add(cells.Select(c => c ?? "-").ToArray());
        return this;
    }

    public void WriteTo(TextWriter writer)
    {
        var widths = headers.Select((h, i) => _rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        Write(writer, headers, widths);
        foreach (var row in _rows)
        {
            Write(writer, row, widths);
        }
    }

    /// <summary>One object as <c>name  value</c> lines, the names padded alike.</summary>
    public static void WriteFields(TextWriter writer, params (string Name, string? Value)[] fields)
    {
        var width = fields.Max(f => f.Name.Length);
        foreach (var (name, value) in fields)
        {
            writer.WriteLine($"{name.PadRight(width)}  {value ?? "-"}");
        }
    }

    public static string Time(DateTimeOffset? time)
        => time?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Write(TextWriter writer, string[] cells, int[] widths)
    {
        var line = string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i])));
        writer.WriteLine(line.TrimEnd());
    }
}
