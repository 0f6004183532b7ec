using System.Buffers;
using System.Text;
using Bctrl.Relay.Discovery;

namespace Bctrl.Relay.Tests.Discovery;

/// <summary>
/// The streaming rewrite of discovery documents (issue 8, finding 5): for every document and every way of cutting it into
/// reads (one byte at a time, every split point, random sizes), the output is byte for byte what the JsonNode rewrite
/// gave; invalid JSON and oversized tokens are refused as values; memory stays flat whatever the document's size.
/// </summary>
public sealed class DiscoveryRewriterTests
{
    private const string Connection = "ws://relay.example:9999/cdp/1.test.AaI62HpPdXuU5Xgtg1BWKw.QQvU25loODRFgSh-2QdObdR3uX8";

    public static TheoryData<string> Documents() =>
    [
        """
        {
           "Browser": "HeadlessChrome/131.0.6778.85",
           "Protocol-Version": "1.3",
           "V8-Version": "13.1.201.9",
           "webSocketDebuggerUrl": "ws://127.0.0.1:9222/devtools/browser/4f1c2b3a-9d8e-4f7a-a1b2-c3d4e5f6a7b8"
        }
        """,
        """
        [ {
           "description": "",
           "devtoolsFrontendUrl": "https://chrome-devtools-frontend.appspot.com/serve_rev/@3d81e41b/inspector.html?ws=127.0.0.1:9222/devtools/page/B5D1E0C3",
           "id": "B5D1E0C3", "title": "Example Domain", "type": "page", "url": "https://example.com/",
           "webSocketDebuggerUrl": "ws://127.0.0.1:9222/devtools/page/B5D1E0C3"
        }, {
           "devtoolsFrontendUrl": "/devtools/inspector.html?ws=127.0.0.1:9222/devtools/page/0A1B2C3D",
           "webSocketDebuggerUrl": "ws://127.0.0.1:9222/devtools/page/0A1B2C3D"
        } ]
        """,
        """{"title":"a\"b\\c\/d\u00e9\ud83d\ude00 <&>'+ é 😀","webSocketDebuggerUrl":"ws:\/\/127.0.0.1:9222\/devtools\/page\/X","devtoolsFrontendUrl":"\/devtools\/inspector.html?ws=127.0.0.1:9222\/devtools\/page\/X"}""",
        """{"webSocket\u0044ebuggerUrl":"ws://127.0.0.1:9222/devtools/page/Y","devtools\u0046rontendUrl":"?wss=h:1/devtools/x"}""",
        """{"webSocketDebuggerUrl":{"webSocketDebuggerUrl":"ws://h:1/a","x":["ws://h:1/b"]},"devtoolsFrontendUrl":5,"n":null}""",
        """
        [{"webSocketDebuggerUrl":"/devtools/page/Z"},{"webSocketDebuggerUrl":"ws://127.0.0.1:9222/devtools/page/a.b"},
         {"webSocketDebuggerUrl":"ws://127.0.0.1:9222/devtools/../x"},{"webSocketDebuggerUrl":"ws://127.0.0.1:9222/devtools/page/%41"},
         {"webSocketDebuggerUrl":"ws://[::1]:9222/devtools/page/Q"},{"webSocketDebuggerUrl":"wss://host.example/devtools/browser/abc"},
         {"webSocketDebuggerUrl":"ws://bad host/x"},{"webSocketDebuggerUrl":"ws://127.0.0.1:99999/x"},{"webSocketDebuggerUrl":"ws://127.0.0.1:9222"},
         {"webSocketDebuggerUrl":"ws://127.0.0.1:9222/a//b"},{"webSocketDebuggerUrl":" ws://127.0.0.1:9222/pad"},{"webSocketDebuggerUrl":" ws://127.0.0.1:9222/pad2"},
         {"webSocketDebuggerUrl":"ws://h\\x/p"},{"webSocketDebuggerUrl":"ws://h\\x/q"},{"webSocketDebuggerUrl":"ws://h?x/p"},{"webSocketDebuggerUrl":"ws://h#x/p"},
         {"webSocketDebuggerUrl":"ws://u:p@127.0.0.1:9222/devtools/page/U"},{"webSocketDebuggerUrl":"WS://127.0.0.1:9222/Devtools/Page/Up"},
         {"webSocketDebuggerUrl":"ws://127.0.0.1:9222/devtools/page/A"},{"webSocketDebuggerUrl":"ws://127.0.0.1:9222/devtools/page/B"},
         {"webSocketDebuggerUrl":"ws://127.0.0.1:9222/devtools/page/"},{"webSocketDebuggerUrl":"ws://127.0.0.1:9222/devtools/page/é"},
         {"webSocketDebuggerUrl":"http://127.0.0.1:9222/devtools/page/H"},{"webSocketDebuggerUrl":"not a url"},{"webSocketDebuggerUrl":""}]
        """,
        """
        [{"devtoolsFrontendUrl":"?wss=h/devtools/x&ws=h2/devtools/y"},{"devtoolsFrontendUrl":"xws=a/devtools/"},{"devtoolsFrontendUrl":"ws=/devtools/"},
         {"devtoolsFrontendUrl":"ws=a&b/devtools/"},{"devtoolsFrontendUrl":"wsws=a/devtools/b"},{"devtoolsFrontendUrl":"ws=ws=a/devtools/"},
         {"devtoolsFrontendUrl":"ws=é/devtools/"},{"devtoolsFrontendUrl":"wss"},{"devtoolsFrontendUrl":"ws"},{"devtoolsFrontendUrl":"wsss=a/devtools/"},
         {"devtoolsFrontendUrl":"ws=a/devtools/ws=b/devtools/"},{"devtoolsFrontendUrl":"ws=a/devtools"},{"devtoolsFrontendUrl":"ws=a:1/devtools/page/x?ws=b:2/devtools/"}]
        """,
        "[1, -0.5, 1e10, 1E-2, 0, 123456789012345678901234567890, true, false, null, {}, []," + new string('[', 20) + "1" + new string(']', 20) + "]",
        "null",
        "\"just a string\"",
        " \t\r\n 42 \t\r\n ",
    ];

    [Theory]
    [MemberData(nameof(Documents))]
    public void Whole_and_one_byte_at_a_time_match_the_JsonNode_rewrite(string document)
    {
        var expected = JsonNodeRewrite.Apply(document, Connection);
        var bytes = Encoding.UTF8.GetBytes(document);
        Assert.Equal(expected, Rewrite(bytes, [bytes.Length]));
        Assert.Equal(expected, Rewrite(bytes, Enumerable.Repeat(1, bytes.Length)));
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_split_point_matches_the_JsonNode_rewrite(string document)
    {
        var expected = JsonNodeRewrite.Apply(document, Connection);
        var bytes = Encoding.UTF8.GetBytes(document);
        for (var split = 0; split <= bytes.Length; split++)
        {
            Assert.Equal(expected, Rewrite(bytes, [split, bytes.Length - split]));
        }
    }

    /// <summary>A list just under 1 MiB, read in random sizes: URLs land across reads everywhere.</summary>
    [Theory]
    [InlineData(1, 1, 7)]
    [InlineData(2, 1, 300)]
    [InlineData(3, 1, 5000)]
    [InlineData(4, 1000, 70_000)]
    public void A_large_list_in_random_reads_matches_the_JsonNode_rewrite(int seed, int smallest, int largest)
    {
        var document = LargeList(pages: 2500, seed);
        var expected = JsonNodeRewrite.Apply(document, Connection);
        var bytes = Encoding.UTF8.GetBytes(document);
        var random = new Random(seed);
        var reads = new List<int>();
        for (var total = 0; total < bytes.Length;)
        {
            var size = Math.Min(random.Next(smallest, largest + 1), bytes.Length - total);
            reads.Add(size);
            total += size;
        }

        Assert.Equal(expected, Rewrite(bytes, reads));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("{")]
    [InlineData("[1,]")]
    [InlineData("{\"a\":1,}")]
    [InlineData("{\"a\":1} {\"b\":2}")]
    [InlineData("[1] x")]
    [InlineData("[1 /* comment */]")]
    [InlineData("nul")]
    [InlineData("{\"a\" 1}")]
    [InlineData("[\"\\ud800\"]")]
    [InlineData("[\"\\x\"]")]
    [InlineData("{'a':1}")]
    public void Invalid_json_is_refused_however_it_is_cut(string document)
    {
        var bytes = Encoding.UTF8.GetBytes(document);
        for (var split = 0; split <= bytes.Length; split++)
        {
            Assert.Equal(DiscoveryRewriteStatus.InvalidJson, Run(bytes, [split, bytes.Length - split], new ArrayBufferWriter<byte>()));
        }
    }

    [Theory]
    [InlineData(64, 65)]
    [InlineData(DiscoveryRewriter.DefaultMaxTokenBytes, DiscoveryRewriter.DefaultMaxTokenBytes + 1)]
    [InlineData(DiscoveryRewriter.DefaultMaxTokenBytes, 2 * DiscoveryRewriter.DefaultMaxTokenBytes)]
    public void A_token_over_the_bound_is_refused(int bound, int tokenLength)
    {
        var bytes = Encoding.UTF8.GetBytes($"{{\"title\":\"{new string('a', tokenLength)}\"}}");
        var output = new ArrayBufferWriter<byte>();
        using var rewriter = new DiscoveryRewriter(Connection, output, bound);
        Assert.Equal(DiscoveryRewriteStatus.TokenTooLarge, rewriter.Write(bytes));
        Assert.Equal(DiscoveryRewriteStatus.TokenTooLarge, rewriter.Complete());
    }

    /// <summary>Many short <c>ws=</c> matches in one URL would come out ten times longer: over the bound, refused.</summary>
    [Fact]
    public void A_frontend_url_whose_rewrite_is_over_the_bound_is_refused()
    {
        var url = string.Concat(Enumerable.Repeat("ws=a/devtools/", 100));
        var bytes = Encoding.UTF8.GetBytes($"{{\"devtoolsFrontendUrl\":\"{url}\"}}");
        var output = new ArrayBufferWriter<byte>();
        using var rewriter = new DiscoveryRewriter(Connection, output, maxTokenBytes: 4 * url.Length);
        Assert.Equal(DiscoveryRewriteStatus.TokenTooLarge, rewriter.Write(bytes));

        using var roomy = new DiscoveryRewriter(Connection, output, maxTokenBytes: 100 * url.Length);
        roomy.Write(bytes);
        Assert.Equal(DiscoveryRewriteStatus.Done, roomy.Complete());
    }

    [Fact]
    public void A_token_at_the_bound_passes()
    {
        var document = $"{{\"title\":\"{new string('a', 60)}\"}}";
        var bytes = Encoding.UTF8.GetBytes(document);
        var output = new ArrayBufferWriter<byte>();
        using var rewriter = new DiscoveryRewriter(Connection, output, maxTokenBytes: 64);
        foreach (var b in bytes)
        {
            Assert.Equal(DiscoveryRewriteStatus.NeedMoreData, rewriter.Write([b]));
        }

        Assert.Equal(DiscoveryRewriteStatus.Done, rewriter.Complete());
        Assert.Equal(JsonNodeRewrite.Apply(document, Connection), Encoding.UTF8.GetString(output.WrittenSpan));
    }

    /// <summary>Whitespace is no token: megabytes of it between values neither grow the buffer nor count against the bound.</summary>
    [Fact]
    public void Long_whitespace_is_not_a_token()
    {
        var document = "[1," + new string(' ', 3 * 1024 * 1024) + "2]";
        var bytes = Encoding.UTF8.GetBytes(document);
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(DiscoveryRewriteStatus.Done, Run(bytes, Enumerable.Repeat(16 * 1024, (bytes.Length / (16 * 1024)) + 1), output));
        Assert.Equal("[1,2]", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    /// <summary>
    /// An 8 MiB list (the default cap) rewritten in 16 KiB reads, its output written away as it comes: what it
    /// allocates is a few buffers and the first URL's Uri, not the document.
    /// </summary>
    [Fact]
    public void Memory_does_not_grow_with_the_document()
    {
        var block = Encoding.UTF8.GetBytes(string.Join(',', Enumerable.Repeat(
            """{"devtoolsFrontendUrl":"/devtools/inspector.html?ws=127.0.0.1:9222/devtools/page/B5D1E0C3","id":"B5D1E0C3","webSocketDebuggerUrl":"ws://127.0.0.1:9222/devtools/page/B5D1E0C3"}""",
            100)));
        var sink = new Sink();
        var allocated = Allocations.LeastOf(8, () =>
        {
            using var rewriter = new DiscoveryRewriter(Connection, sink);
            rewriter.Write("["u8);
            for (var written = 0L; written < 8L * 1024 * 1024; written += block.Length + 1)
            {
                rewriter.Write(block);
                rewriter.Write(","u8);
            }

            rewriter.Write("1]"u8);
            Assert.Equal(DiscoveryRewriteStatus.Done, rewriter.Complete());
        });

        Assert.True(sink.Written > 8L * 1024 * 1024, $"{sink.Written} bytes written");
        Assert.True(allocated < 64 * 1024, $"rewriting 8 MiB allocated {allocated} bytes");
    }

    private static string LargeList(int pages, int seed)
    {
        var random = new Random(seed);
        var builder = new StringBuilder("[");
        for (var i = 0; i < pages; i++)
        {
            var id = Convert.ToHexString(BitConverter.GetBytes(random.NextInt64()));
            builder.Append(i == 0 ? "\n" : ",\n").Append($$"""
                {"description":"","devtoolsFrontendUrl":"/devtools/inspector.html?ws=127.0.0.1:9222/devtools/page/{{id}}",
                 "id":"{{id}}","title":"Page {{i}} – “{{new string('x', random.Next(0, 200))}}”","type":"page",
                 "url":"https://example.com/{{i}}?a=1&b=2","webSocketDebuggerUrl":"ws://127.0.0.1:9222/devtools/page/{{id}}"}
                """);
        }

        return builder.Append(']').ToString();
    }

    private static string Rewrite(byte[] document, IEnumerable<int> reads)
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(DiscoveryRewriteStatus.Done, Run(document, reads, output));
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>Feeds <paramref name="document"/> in reads of the given sizes through the rewriter's own buffer, as the endpoint does.</summary>
    private static DiscoveryRewriteStatus Run(byte[] document, IEnumerable<int> reads, IBufferWriter<byte> output)
    {
        using var rewriter = new DiscoveryRewriter(Connection, output);
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
                if (rewriter.Advance(count) != DiscoveryRewriteStatus.NeedMoreData)
                {
                    return rewriter.Complete();
                }
            }
        }

        return rewriter.Complete();
    }

    /// <summary>An output that keeps one buffer and counts what is written into it.</summary>
    private sealed class Sink : IBufferWriter<byte>
    {
        private byte[] _buffer = new byte[64 * 1024];

        public long Written { get; private set; }

        public void Advance(int count) => Written += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            if (_buffer.Length < sizeHint)
            {
                _buffer = new byte[sizeHint];
            }

            return _buffer;
        }

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
    }
}
