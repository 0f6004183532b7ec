using System.Text;

namespace Bctrl.Relay.Discovery;

/// <summary>The two URL rewrites, on UTF-8 bytes, with the meaning the JsonNode rewrite gave them.</summary>
internal sealed partial class DiscoveryRewriter
{
    // Paths longer than this, or prefixes (scheme and authority), always take Uri's way.
    private const int MaxFastPath = 2048;
    private const int MaxFastPrefix = 256;

    private readonly string _connectionUrl;
    private readonly byte[] _connectionUrlUtf8;
    private readonly byte[] _frontendReplacement;
    private readonly byte[] _knownPrefix = new byte[MaxFastPrefix];
    private byte[] _scratch;
    private byte[] _built;
    private int _knownPrefixLength = -1;

    private static (string Url, byte[] Utf8, byte[] FrontendReplacement) RelayUrls(string connectionUrl)
    {
        var relay = new Uri(connectionUrl);
        return (connectionUrl, Encoding.UTF8.GetBytes(connectionUrl), Encoding.UTF8.GetBytes($"{relay.Scheme}={relay.Authority}{relay.AbsolutePath}/devtools/"));
    }

    /// <summary>
    /// <c>ws://runtime:9222/devtools/page/ID</c> becomes <c>CONNECTION_URL/devtools/page/ID</c>: the connection URL plus
    /// <see cref="Uri.AbsolutePath"/> when the value is an absolute URI, the value unchanged otherwise.
    /// </summary>
    /// <remarks>
    /// A <see cref="Uri"/> costs about a kilobyte of garbage, and a list has two URLs per page. Chromium's URLs all share
    /// one scheme and authority and have plain paths, so once Uri has accepted a prefix with a plain path (and given the
    /// path back unchanged), later values with that prefix and a plain path take the path as it is, with no Uri.
    /// Anything else (escapes, dots, percent signs, a new authority) goes through Uri as before.
    /// </remarks>
    private void WriteSocketUrl(ReadOnlySpan<byte> url)
    {
        var split = PathStart(url);
        if (split > 0 && split == _knownPrefixLength && url[..split].SequenceEqual(_knownPrefix.AsSpan(0, split)) && IsPlainPath(url[split..]))
        {
            WriteConcatenated(_connectionUrlUtf8, url[split..]);
            return;
        }

        if (!Uri.TryCreate(Encoding.UTF8.GetString(url), UriKind.Absolute, out var socket))
        {
            _writer.WriteStringValue(url);
            return;
        }

        var path = socket.AbsolutePath;
        _writer.WriteStringValue(_connectionUrl + path);
        if (split > 0 && split <= MaxFastPrefix && IsPlainPath(url[split..]) && Encoding.UTF8.GetByteCount(path) == url.Length - split
            && Encoding.UTF8.GetString(url[split..]) == path)
        {
            url[..split].CopyTo(_knownPrefix);
            _knownPrefixLength = split;
        }
    }

    /// <summary>Where the path begins after <c>scheme://authority</c>; -1 without one.</summary>
    private static int PathStart(ReadOnlySpan<byte> url)
    {
        var scheme = url.IndexOf("://"u8);
        if (scheme <= 0)
        {
            return -1;
        }

        var slash = url[(scheme + 3)..].IndexOf((byte)'/');
        return slash < 0 ? -1 : scheme + 3 + slash;
    }

    /// <summary>Segments of letters, digits, <c>-</c> and <c>_</c> only: nothing Uri would escape, unescape or collapse.</summary>
    private static bool IsPlainPath(ReadOnlySpan<byte> path)
    {
        if (path.Length is < 2 or > MaxFastPath || path[0] != '/' || path[^1] == '/')
        {
            return false;
        }

        for (var i = 1; i < path.Length; i++)
        {
            var c = path[i];
            var plain = c is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'_'
                || (c == '/' && path[i - 1] != '/');
            if (!plain)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Every match of <c>wss?=[^/&amp;]+/devtools/</c> in a <c>devtoolsFrontendUrl</c> (like
    /// <c>…/inspector.html?ws=127.0.0.1:9222/devtools/page/ID</c>) becomes <c>SCHEME=AUTHORITY/cdp/TOKEN/devtools/</c> of
    /// the relay, leftmost first and without overlap, as Regex.Replace did. False when the result would be longer than
    /// the token bound: a URL of many short matches would otherwise grow tenfold.
    /// </summary>
    private bool WriteFrontendUrl(ReadOnlySpan<byte> url)
    {
        // A match is at least "ws=x/devtools/" (14 bytes) and becomes the replacement.
        var longest = Math.Min(url.Length + (((url.Length / 14) + 1) * _frontendReplacement.Length), _maxTokenBytes);
        Ensure(ref _built, longest);
        var built = 0;
        var copied = 0;
        var stop = -1; // the next '/' or '&' at or after the current value start: found once per run, so this stays linear
        for (var i = 0; i + 2 < url.Length; i++)
        {
            if (url[i] != 'w' || url[i + 1] != 's')
            {
                continue;
            }

            var value = url[i + 2] == '=' ? i + 3 : url[i + 2] == 's' && i + 3 < url.Length && url[i + 3] == '=' ? i + 4 : -1;
            if (value < 0)
            {
                continue;
            }

            if (stop < value)
            {
                var found = url[value..].IndexOfAny((byte)'/', (byte)'&');
                stop = found < 0 ? url.Length : value + found;
            }

            if (stop == value || !url[stop..].StartsWith("/devtools/"u8))
            {
                continue;
            }

            if (built + (i - copied) + _frontendReplacement.Length > longest)
            {
                return false;
            }

            url[copied..i].CopyTo(_built.AsSpan(built));
            built += i - copied;
            _frontendReplacement.CopyTo(_built.AsSpan(built));
            built += _frontendReplacement.Length;
            copied = stop + "/devtools/".Length;
            i = copied - 1;
        }

        if (built + (url.Length - copied) > longest)
        {
            return false;
        }

        url[copied..].CopyTo(_built.AsSpan(built));
        built += url.Length - copied;
        _writer.WriteStringValue(_built.AsSpan(0, built));
        return true;
    }

    private void WriteConcatenated(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        Ensure(ref _built, first.Length + second.Length);
        first.CopyTo(_built);
        second.CopyTo(_built.AsSpan(first.Length));
        _writer.WriteStringValue(_built.AsSpan(0, first.Length + second.Length));
    }
}
