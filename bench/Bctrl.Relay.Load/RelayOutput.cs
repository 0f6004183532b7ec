using System.Text.RegularExpressions;

namespace Bctrl.Relay.Load;

/// <summary>
/// What a relay process printed, kept small: counts of warnings and errors with the first few of them, how attaches
/// ended and which client transport each spliced through (its <c>AttachClosed</c> log), and the last lines for a
/// failed start.
/// </summary>
internal sealed partial class RelayOutput
{
    private const int TailLines = 40;
    private const int KeptProblems = 10;

    private readonly Lock _lock = new();
    private readonly Queue<string> _tail = new();
    private readonly List<string> _problems = [];
    private readonly Dictionary<string, int> _closeReasons = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _transports = new(StringComparer.Ordinal);
    private string? _pendingLevel;
    private int _warnings;
    private int _errors;

    public int Warnings
    {
        get
        {
            lock (_lock)
            {
                return _warnings;
            }
        }
    }

    public int Errors
    {
        get
        {
            lock (_lock)
            {
                return _errors;
            }
        }
    }

    public void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            _tail.Enqueue(line);
            if (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }

            // The console formatter writes "level: Category[id]" and then the message on the next, indented line.
            if (line.StartsWith("warn: ", StringComparison.Ordinal) || line.StartsWith("fail: ", StringComparison.Ordinal)
                || line.StartsWith("crit: ", StringComparison.Ordinal))
            {
                if (line.StartsWith("warn", StringComparison.Ordinal))
                {
                    _warnings++;
                }
                else
                {
                    _errors++;
                }

                _pendingLevel = line;
                return;
            }

            if (_pendingLevel is not null)
            {
                if (_problems.Count < KeptProblems)
                {
                    _problems.Add(_pendingLevel + " " + line.Trim());
                }

                _pendingLevel = null;
            }

            var closed = ClosedPattern().Match(line);
            if (closed.Success)
            {
                Increment(_closeReasons, closed.Groups["reason"].Value + ClosePart(line));
            }

            var transport = TransportPattern().Match(line);
            if (transport.Success)
            {
                Increment(_transports, transport.Groups["transport"].Value);
            }
        }
    }

    public Snapshot Read()
    {
        lock (_lock)
        {
            return new Snapshot(_warnings, _errors, [.. _problems], new Dictionary<string, int>(_closeReasons), new Dictionary<string, int>(_transports), [.. _tail]);
        }
    }

    private static string ClosePart(string line)
    {
        var codes = CodesPattern().Match(line);
        return codes.Success ? $" (client {codes.Groups["client"].Value}, runtime {codes.Groups["runtime"].Value})" : string.Empty;
    }

    private static void Increment(Dictionary<string, int> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;

    [GeneratedRegex(@"Attach \d+ closed: (?<reason>\w+)")]
    private static partial Regex ClosedPattern();

    [GeneratedRegex(@"client close (?<client>\d+), runtime close (?<runtime>\d+)")]
    private static partial Regex CodesPattern();

    [GeneratedRegex(@"spliced through (?<transport>[^.]+)\.")]
    private static partial Regex TransportPattern();

    public sealed record Snapshot(
        int Warnings,
        int Errors,
        IReadOnlyList<string> Problems,
        IReadOnlyDictionary<string, int> CloseReasons,
        IReadOnlyDictionary<string, int> Transports,
        IReadOnlyList<string> Tail);
}
