using System.Text;
using Bctrl.Relay.Observation;

namespace Bctrl.Relay.Tests.Observation;

/// <summary>
/// <see cref="CdpPeek"/> on whole messages and on every prefix of them (docs/design.md §6: the sampler reads only a bounded
/// prefix). A cut prefix may lose a field, never report a wrong one: no truncated id, method or session id.
/// </summary>
/// <remarks>Every test starts with <c>await Task.Yield()</c> so that its <c>Timeout</c> applies (xunit times async tests only).</remarks>
public sealed class CdpPeekTests
{
    /// <summary>Messages as clients and Chromium write them, with the fields a correct reader finds in each.</summary>
    public static TheoryData<string, long?, string?, string?, bool, string?> Messages => new()
    {
        // Puppeteer (JS) writes id after params; PuppeteerSharp and Playwright write it first.
        { """{"id":1,"method":"Page.navigate","params":{"url":"https://example.com/"}}""", 1, "Page.navigate", null, false, """{"url":"https://example.com/"}""" },
        { """{"method":"Page.navigate","params":{"url":"https://example.com/"},"id":42,"sessionId":"8E1F"}""", 42, "Page.navigate", "8E1F", false, """{"url":"https://example.com/"}""" },
        { """{"id":3,"result":{"frameTree":{"frame":{"id":"F1"}}},"sessionId":"AB12"}""", 3, null, "AB12", false, null },
        { """{"id":4,"error":{"code":-32601,"message":"'X.y' wasn't found"}}""", 4, null, null, true, null },
        { """{"method":"Page.lifecycleEvent","params":{"frameId":"F1","name":"load","timestamp":1.5},"sessionId":"S9"}""", null, "Page.lifecycleEvent", "S9", false, """{"frameId":"F1","name":"load","timestamp":1.5}""" },
        // Strings full of JSON-looking escapes must not end params early or hide what follows.
        { """{"method":"Runtime.evaluate","params":{"expression":"\"}],{\\\"id\\\":9} \u007d \\"},"id":7}""", 7, "Runtime.evaluate", null, false, """{"expression":"\"}],{\\\"id\\\":9} \u007d \\"}""" },
        // Arrays, nested and empty, inside params.
        { """{"id":8,"method":"Input.dispatchTouchEvent","params":{"touchPoints":[{"x":1,"y":[2,[3,[]]]},[]],"modifiers":0}}""", 8, "Input.dispatchTouchEvent", null, false, """{"touchPoints":[{"x":1,"y":[2,[3,[]]]},[]],"modifiers":0}""" },
        // Whitespace between tokens, and params that are not an object.
        { "{ \"id\" : 9 ,\n \"method\" : \"Browser.getVersion\" , \"params\" : null }", 9, "Browser.getVersion", null, false, "null" },
        // Unknown top-level fields of every kind are skipped.
        { """{"x":[1,{"id":2}],"y":true,"z":"id","id":10,"method":"Target.getTargets"}""", 10, "Target.getTargets", null, false, null },
        { """{"id":9007199254740993,"method":"Page.enable"}""", 9007199254740993, "Page.enable", null, false, null },
    };

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(Messages))]
    public async Task A_whole_message_yields_every_top_level_field(string json, long? id, string? method, string? sessionId, bool error, string? parameters)
    {
        await Task.Yield();
        var bytes = Encoding.UTF8.GetBytes(json);

        Assert.True(CdpPeek.TryRead(bytes, isWholeMessage: true, out var peek));

        Assert.True(peek.Complete);
        Assert.Equal(id is not null, peek.HasId);
        Assert.Equal(id ?? 0, peek.Id);
        Assert.Equal(method ?? string.Empty, Encoding.UTF8.GetString(peek.Method));
        Assert.Equal(sessionId ?? string.Empty, Encoding.UTF8.GetString(peek.SessionId));
        Assert.Equal(error, peek.HasError);
        Assert.Equal(parameters ?? string.Empty, Encoding.UTF8.GetString(bytes.AsSpan(peek.ParamsStart, peek.ParamsEnd - peek.ParamsStart)));
    }

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(Messages))]
    public async Task Every_prefix_yields_a_subset_of_the_fields_and_never_a_truncated_one(
        string json, long? id, string? method, string? sessionId, bool error, string? parameters)
    {
        await Task.Yield();
        var bytes = Encoding.UTF8.GetBytes(json);
        for (var length = 0; length < bytes.Length; length++)
        {
            var found = CdpPeek.TryRead(bytes.AsSpan(0, length), isWholeMessage: false, out var peek);
            var at = $"prefix of {length} bytes";

            Assert.False(peek.Complete, at);
            Assert.Equal(found, peek.HasId || !peek.Method.IsEmpty);
            if (peek.HasId)
            {
                Assert.True(id == peek.Id, $"{at}: id {peek.Id}, the message's is {id}");
            }

            if (!peek.Method.IsEmpty)
            {
                Assert.Equal(method, Encoding.UTF8.GetString(peek.Method));
            }

            if (!peek.SessionId.IsEmpty)
            {
                Assert.Equal(sessionId, Encoding.UTF8.GetString(peek.SessionId));
            }

            Assert.False(peek.HasError && !error, at);
            if (peek.ParamsEnd > peek.ParamsStart)
            {
                Assert.Equal(parameters, Encoding.UTF8.GetString(bytes.AsSpan(peek.ParamsStart, peek.ParamsEnd - peek.ParamsStart)));
            }
            else
            {
                Assert.Equal(0, peek.ParamsStart);
                Assert.Equal(0, peek.ParamsEnd);
            }
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task An_id_ahead_of_a_long_params_is_read_from_a_short_prefix()
    {
        await Task.Yield();
        var bytes = Encoding.UTF8.GetBytes($$$"""{"id":123,"method":"Runtime.callFunctionOn","params":{"functionDeclaration":"{{{new string('x', 5000)}}}"}}""");

        Assert.True(CdpPeek.TryRead(bytes.AsSpan(0, 1024), isWholeMessage: false, out var peek));

        Assert.True(peek.HasId);
        Assert.Equal(123, peek.Id);
        Assert.Equal("Runtime.callFunctionOn", Encoding.UTF8.GetString(peek.Method));
        Assert.False(peek.Complete);
        Assert.Equal(0, peek.ParamsEnd);
    }

    [Fact(Timeout = 10_000)]
    public async Task An_id_behind_a_long_params_is_not_seen_in_a_short_prefix()
    {
        await Task.Yield();
        var bytes = Encoding.UTF8.GetBytes($$$"""{"method":"Runtime.callFunctionOn","params":{"functionDeclaration":"{{{new string('x', 5000)}}}"},"id":123}""");

        Assert.True(CdpPeek.TryRead(bytes.AsSpan(0, 1024), isWholeMessage: false, out var peek));

        Assert.False(peek.HasId);
        Assert.Equal("Runtime.callFunctionOn", Encoding.UTF8.GetString(peek.Method));
        Assert.Equal(0, peek.ParamsEnd);
    }

    [Theory(Timeout = 10_000)]
    [InlineData("""{"id":12""", false)] // the number may go on: 12 must not be taken for 123
    [InlineData("""{"id":12,""", true)]
    [InlineData("""{"id":-1""", false)]
    [InlineData("""{"id":1e""", false)]
    public async Task A_number_at_the_end_of_a_prefix_is_taken_only_once_it_is_delimited(string prefix, bool seen)
    {
        await Task.Yield();

        CdpPeek.TryRead(Encoding.UTF8.GetBytes(prefix), isWholeMessage: false, out var peek);

        Assert.Equal(seen, peek.HasId);
        Assert.Equal(seen ? 12 : 0, peek.Id);
    }

    [Theory(Timeout = 10_000)]
    [InlineData("""{"method":"Page.navigate""")]
    [InlineData("{\"method\":\"Page.navigate\"")]
    [InlineData("""{"method":"Page.nav""")]
    public async Task A_method_cut_anywhere_before_its_delimiter_is_seen_whole_or_not_at_all(string prefix)
    {
        await Task.Yield();

        var found = CdpPeek.TryRead(Encoding.UTF8.GetBytes(prefix), isWholeMessage: false, out var peek);

        Assert.True(!found || Encoding.UTF8.GetString(peek.Method) == "Page.navigate", Encoding.UTF8.GetString(peek.Method));
    }

    [Theory(Timeout = 10_000)]
    [InlineData("""{"id":1,"method":"Page\u002enavigate"}""")]
    [InlineData("""{"id":1,"method":"Page.navigate","sessionId":"A\u0042"}""")]
    public async Task An_escaped_method_or_session_id_is_never_reported_in_its_escaped_form(string json)
    {
        await Task.Yield();

        Assert.True(CdpPeek.TryRead(Encoding.UTF8.GetBytes(json), isWholeMessage: true, out var peek));

        Assert.True(peek.HasId);
        Assert.DoesNotContain((byte)'\\', peek.Method.ToArray());
        Assert.DoesNotContain((byte)'\\', peek.SessionId.ToArray());
    }

    [Theory(Timeout = 10_000)]
    [InlineData("")]
    [InlineData("[1,2,3]")]
    [InlineData("""[{"id":1,"method":"Page.enable"}]""")]
    [InlineData("\"id\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("hello, runtime")]
    [InlineData("{}")]
    [InlineData("""{"params":{"id":1,"method":"Page.enable"}}""")]
    [InlineData("""{"id":"7","method":42}""")]
    [InlineData("""{"id":1.5}""")]
    [InlineData("{not json at all}")]
    [InlineData("""{"id" 1}""")]
    [InlineData("\u00ff\u00fe{")]
    public async Task Input_that_is_not_a_CDP_object_yields_nothing(string text)
    {
        await Task.Yield();
        var bytes = Encoding.UTF8.GetBytes(text);

        Assert.False(CdpPeek.TryRead(bytes, isWholeMessage: true, out var whole));
        Assert.False(whole.HasId);
        Assert.True(whole.Method.IsEmpty);
        Assert.False(CdpPeek.TryRead(bytes, isWholeMessage: false, out _));
    }

    [Fact(Timeout = 10_000)]
    public async Task Invalid_json_after_the_fields_keeps_what_was_read_before_it()
    {
        await Task.Yield();

        Assert.True(CdpPeek.TryRead("""{"id":5,"method":"Page.enable","params":{oops}}"""u8, isWholeMessage: true, out var peek));

        Assert.Equal(5, peek.Id);
        Assert.Equal("Page.enable", Encoding.UTF8.GetString(peek.Method));
        Assert.False(peek.Complete);
        Assert.Equal(0, peek.ParamsEnd);
    }

    [Fact(Timeout = 10_000)]
    public async Task Params_nested_deeper_than_the_reader_allows_keep_the_fields_before_them()
    {
        await Task.Yield();
        var json = """{"id":6,"method":"DOM.setAttributeValue","params":""" + new string('[', 200) + new string(']', 200) + ",\"sessionId\":\"S\"}";

        Assert.True(CdpPeek.TryRead(Encoding.UTF8.GetBytes(json), isWholeMessage: true, out var peek));

        Assert.Equal(6, peek.Id);
        Assert.Equal("DOM.setAttributeValue", Encoding.UTF8.GetString(peek.Method));
        Assert.False(peek.Complete);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_result_with_an_error_field_anywhere_at_the_top_level_is_an_error()
    {
        await Task.Yield();

        Assert.True(CdpPeek.TryRead("""{"error":{"code":-32000,"message":"No target"},"id":11,"sessionId":"Z"}"""u8, isWholeMessage: true, out var peek));

        Assert.True(peek.HasError);
        Assert.False(peek.HasResult);
        Assert.Equal(11, peek.Id);
        Assert.True(CdpPeek.TryRead("""{"id":12,"result":{"error":"not this one"}}"""u8, isWholeMessage: true, out var ok));
        Assert.False(ok.HasError);
        Assert.True(ok.HasResult);
    }

    [Fact(Timeout = 30_000)]
    public async Task TryRead_allocates_nothing_after_warm_up()
    {
        await Task.Yield();
        byte[][] inputs =
        [
            """{"id":1,"method":"Page.navigate","params":{"url":"https://example.com/"},"sessionId":"8E1F"}"""u8.ToArray(),
            """{"method":"Network.dataReceived","params":{"requestId":"1.2","dataLength":5},"sessionId":"8E1F"}"""u8.ToArray(),
            """{"id":3,"result":{"a":[1,2,{"b":"\"}"}]}}"""u8.ToArray(),
            Encoding.UTF8.GetBytes($$$"""{"id":4,"method":"Runtime.evaluate","params":{"expression":"{{{new string('y', 3000)}}}"}}"""),
            "[1,2]"u8.ToArray(),
        ];
        var checksum = 0L;

        for (var i = 0; i < 100; i++)
        {
            Run();
        }

        var allocated = Allocations.LeastOf(8, () =>
        {
            checksum = 0;
            for (var i = 0; i < 1000; i++)
            {
                Run();
            }
        });

        Assert.Equal(0, allocated);
        Assert.Equal(1000 * ((1 + 0 + 3 + 4 + 0) + 1 + 300), checksum);

        void Run()
        {
            foreach (var input in inputs)
            {
                // Whole, and a 1 KiB prefix (what the sampler reads by default), and a short cut.
                checksum += CdpPeek.TryRead(input, isWholeMessage: true, out var whole) ? whole.Id : 0;
                if (input.Length > 1024)
                {
                    checksum += CdpPeek.TryRead(input.AsSpan(0, 1024), isWholeMessage: false, out var cut) && cut.HasId ? 1 : 0;
                }

                checksum += CdpPeek.TryRead(input.AsSpan(0, Math.Min(input.Length, 20)), isWholeMessage: false, out _) ? 100 : 0;
            }
        }
    }
}
