using System.Buffers;
using System.Text;
using Bctrl.Relay.Discovery;

namespace Bctrl.Relay.Tests.Discovery;

/// <summary>
/// The list of a scoped lease (docs/scope.md): only elements whose own <c>id</c> is the scope go out, rewritten exactly
/// as an unscoped rewrite of those elements alone would be, whatever the reads, wherever the <c>id</c> sits.
/// </summary>
public sealed class DiscoveryRewriterScopeTests
{
    private const string Connection = "ws://relay.example:9999/cdp/1.test.AaI62HpPdXuU5Xgtg1BWKw.QQvU25loODRFgSh-2QdObdR3uX8";
    private const string Scope = "B5D1E0C3";

    private static readonly string Kept =
        """{"description":"","devtoolsFrontendUrl":"/devtools/inspector.html?ws=127.0.0.1:9222/devtools/page/B5D1E0C3","faviconUrl":"x","id":"B5D1E0C3","title":"Mine","type":"page","url":"https://example.com/","webSocketDebuggerUrl":"ws://127.0.0.1:9222/devtools/page/B5D1E0C3"}""";

    private static readonly string[] Dropped =
    [
        // Another page, its id first.
        """{"id":"0A1B2C3D","webSocketDebuggerUrl":"ws://127.0.0.1:9222/devtools/page/0A1B2C3D","title":"B5D1E0C3"}""",

        // The scope only in a nested object's id: not the element's own.
        """{"webSocketDebuggerUrl":"ws://127.0.0.1:9222/devtools/page/FFFF","child":{"id":"B5D1E0C3"},"id":"FFFF"}""",

        // No id at all, an id that is no string, an id that repeats with another value, a prefix and an extension of the scope.
        """{"webSocketDebuggerUrl":"ws://127.0.0.1:9222/devtools/browser/abc"}""",
        """{"id":5}""",
        """{"id":"B5D1E0C3","id":"0A1B2C3D"}""",
        """{"id":"B5D1E0C"}""",
        """{"id":"B5D1E0C3x"}""",
        """{"id":"b5d1e0c3"}""",

        // Elements that are not objects.
        """["B5D1E0C3",{"id":"B5D1E0C3"}]""",
        "\"B5D1E0C3\"",
        "7",
        "null",
    ];

    [Fact]
    public void Only_the_scoped_element_goes_out_wherever_it_stands()
    {
        for (var at = 0; at <= Dropped.Length; at++)
        {
            var elements = Dropped.ToList();
            elements.Insert(at, Kept);
            var document = "[" + string.Join(",\n ", elements) + "]";

            Assert.Equal(Unscoped("[" + Kept + "]"), Scoped(document, [int.MaxValue]));
        }
    }

    [Fact]
    public void An_escaped_id_property_or_value_still_counts()
    {
        var escaped = """{"\u0069d":"B5D1E0\u00433","webSocketDebuggerUrl":"ws://127.0.0.1:9222/devtools/page/B5D1E0C3"}""";

        Assert.Equal(Unscoped("[" + escaped + "]"), Scoped("[" + Dropped[0] + "," + escaped + "]", [int.MaxValue]));
    }

    [Fact]
    public void Every_split_point_gives_the_same_list()
    {
        var document = Encoding.UTF8.GetBytes("[" + Dropped[0] + ",\n" + Kept + "," + Dropped[1] + "," + Dropped[8] + "]");
        var expected = Unscoped("[" + Kept + "]");

        for (var split = 0; split <= document.Length; split++)
        {
            Assert.Equal(expected, Rewrite(document, [split, int.MaxValue], Scope));
        }

        Assert.Equal(expected, Rewrite(document, Enumerable.Repeat(1, document.Length), Scope));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[1,2,\"x\"]")]
    [InlineData("""[{"id":"other"}]""")]
    public void A_list_without_the_scope_is_empty(string document) => Assert.Equal("[]", Scoped(document, [int.MaxValue]));

    [Theory]
    [InlineData("""{"id":"other","webSocketDebuggerUrl":"ws://127.0.0.1:9222/devtools/page/other"}""")]
    [InlineData("null")]
    [InlineData("\"text\"")]
    public void A_document_that_is_no_list_is_rewritten_as_ever(string document) =>
        Assert.Equal(Unscoped(document), Scoped(document, [int.MaxValue]));

    [Fact]
    public void Invalid_json_inside_a_dropped_element_is_still_refused()
    {
        var output = new ArrayBufferWriter<byte>();
        using var rewriter = new DiscoveryRewriter(Connection, output, scopeTarget: Scope);
        rewriter.Write("""[{"id":"other","x":tru}]"""u8);

        Assert.Equal(DiscoveryRewriteStatus.InvalidJson, rewriter.Complete());
    }

    /// <summary>An 8 MiB list of other pages: one element is held at a time, so memory stays flat.</summary>
    [Fact]
    public void Memory_does_not_grow_with_the_list()
    {
        var block = Encoding.UTF8.GetBytes(string.Join(',', Enumerable.Repeat(Dropped[0], 100)));
        var output = new ArrayBufferWriter<byte>();
        var allocated = Allocations.LeastOf(8, () =>
        {
            output.ResetWrittenCount();
            using var rewriter = new DiscoveryRewriter(Connection, output, scopeTarget: Scope);
            rewriter.Write("["u8);
            rewriter.Write(Encoding.UTF8.GetBytes(Kept));
            for (var written = 0L; written < 8L * 1024 * 1024; written += block.Length + 1)
            {
                rewriter.Write(","u8);
                rewriter.Write(block);
            }

            rewriter.Write("]"u8);
            Assert.Equal(DiscoveryRewriteStatus.Done, rewriter.Complete());
        });

        Assert.Equal(Unscoped("[" + Kept + "]"), Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.True(allocated < 128 * 1024, $"filtering 8 MiB allocated {allocated} bytes");
    }

    private static string Scoped(string document, IEnumerable<int> reads) => Rewrite(Encoding.UTF8.GetBytes(document), reads, Scope);

    private static string Unscoped(string document) => Rewrite(Encoding.UTF8.GetBytes(document), [int.MaxValue], scope: null);

    private static string Rewrite(byte[] document, IEnumerable<int> reads, string? scope)
    {
        var output = new ArrayBufferWriter<byte>();
        using var rewriter = new DiscoveryRewriter(Connection, output, scopeTarget: scope);
        var offset = 0;
        foreach (var size in reads)
        {
            var remaining = Math.Min(size, document.Length - offset);
            while (remaining > 0)
            {
                var buffer = rewriter.GetInputBuffer().Span;
                var count = Math.Min(buffer.Length, remaining);
                document.AsSpan(offset, count).CopyTo(buffer);
                offset += count;
                remaining -= count;
                Assert.Equal(DiscoveryRewriteStatus.NeedMoreData, rewriter.Advance(count));
            }
        }

        Assert.Equal(DiscoveryRewriteStatus.Done, rewriter.Complete());
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }
}
