using System.Text;
using Bctrl.Relay.Artifacts;

namespace Bctrl.Relay.Tests.Artifacts;

public sealed class ArtifactContentTests
{
    private static readonly byte[] Png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 250, 251, 252, 253];

    [Fact]
    public void A_result_s_data_is_decoded_wherever_it_lies_among_the_fields()
    {
        var data = Convert.ToBase64String(Png);
        foreach (var json in new[]
        {
            $$"""{"id":1,"result":{"data":"{{data}}"},"sessionId":"S"}""",
            $$"""{"sessionId":"S","result":{"other":{"data":"AAAA"},"list":[1,{"data":"x"}],"data":"{{data}}"},"id":1}""",
            $$$"""{"id":1,"result":{"data":"{{{data.Replace("/", "\\/", StringComparison.Ordinal)}}}"}}""", // an escaping writer
        })
        {
            Assert.Equal(Png, ArtifactContent.ReadData(Encoding.UTF8.GetBytes(json), inResult: true)!.Value.ToArray());
        }
    }

    [Fact]
    public void An_event_s_data_is_read_from_its_params()
    {
        var json = $$$"""{"method":"Page.screencastFrame","params":{"data":"{{{Convert.ToBase64String(Png)}}}","sessionId":3}}""";
        Assert.Equal(Png, ArtifactContent.ReadData(Encoding.UTF8.GetBytes(json), inResult: false)!.Value.ToArray());
        Assert.Null(ArtifactContent.ReadData(Encoding.UTF8.GetBytes(json), inResult: true));
    }

    [Theory]
    [InlineData("""{"id":1,"result":{"data":"not base64 at all!"}}""")]
    [InlineData("""{"id":1,"result":{"data":"AAA"}}""")]
    [InlineData("""{"id":1,"result":{"data":12}}""")]
    [InlineData("""{"id":1,"result":{}}""")]
    [InlineData("""{"id":1,"result":"data"}""")]
    [InlineData("""{"id":1,"error":{"data":"AAAA"}}""")]
    [InlineData("""{"id":1,"result":{"data":"AAAA""")]
    [InlineData("""[1,2]""")]
    [InlineData("""not json""")]
    [InlineData("")]
    public void Anything_else_is_unreadable(string json)
        => Assert.Null(ArtifactContent.ReadData(Encoding.UTF8.GetBytes(json), inResult: true));

    [Fact]
    public void Download_events_give_their_guid_name_state_and_path()
    {
        var begin = ArtifactContent.ReadDownload("""{"method":"Browser.downloadWillBegin","params":{"frameId":"F","guid":"g-1","url":"https://example.test/r.csv?sig=secret","suggestedFilename":"r.csv"}}"""u8);
        Assert.Equal(new DownloadEvent("g-1", "r.csv", null, null), begin);
        var done = ArtifactContent.ReadDownload("""{"method":"Browser.downloadProgress","params":{"guid":"g-1","totalBytes":3,"receivedBytes":3,"state":"completed","filePath":"/d/g-1"}}"""u8);
        Assert.Equal(new DownloadEvent("g-1", null, "completed", "/d/g-1"), done);
        Assert.Null(ArtifactContent.ReadDownload("""{"method":"Browser.downloadProgress","params":{"state":"completed"}}"""u8));
        Assert.Null(ArtifactContent.ReadDownload("""{"method":"Browser.downloadProgress","params":{"guid":"\uD800"}}"""u8));
        Assert.Null(ArtifactContent.ReadDownload("""{"method":"Browser.downloadProgress","params":{"guid":"g"""u8));
    }

    [Theory]
    [InlineData(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, "image/png")]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0 }, "image/jpeg")]
    [InlineData(new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 0, 0, 0, 0, (byte)'W', (byte)'E', (byte)'B', (byte)'P' }, "image/webp")]
    [InlineData(new byte[] { (byte)'%', (byte)'P', (byte)'D', (byte)'F', (byte)'-' }, "application/pdf")]
    [InlineData(new byte[] { (byte)'<', (byte)'h', (byte)'t', (byte)'m', (byte)'l' }, "application/octet-stream")]
    [InlineData(new byte[0], "application/octet-stream")]
    public void Content_types_come_from_the_first_bytes(byte[] content, string expected)
        => Assert.Equal(expected, ArtifactContent.ContentTypeOf(content));
}

public sealed class ArtifactChunkTests
{
    [Fact]
    public void A_read_s_chunk_is_decoded_when_base64_and_taken_as_text_otherwise()
    {
        var chunk = ArtifactContent.ReadChunk("""{"id":3,"result":{"base64Encoded":true,"data":"JVBERi0=","eof":false},"sessionId":"S"}"""u8)!.Value;
        Assert.Equal("%PDF-"u8.ToArray(), chunk.Data);
        Assert.False(chunk.Eof);

        var last = ArtifactContent.ReadChunk("""{"id":4,"result":{"eof":true,"data":"%%EOF"}}"""u8)!.Value;
        Assert.Equal("%%EOF"u8.ToArray(), last.Data);
        Assert.True(last.Eof);
    }

    [Theory]
    [InlineData("""{"id":3,"result":{"base64Encoded":true,"data":"not base64!","eof":true}}""")]
    [InlineData("""{"id":3,"result":{"eof":true}}""")]
    [InlineData("""{"id":3,"result":{"data":7}}""")]
    [InlineData("""{"id":3,"error":{"data":"AAAA"}}""")]
    [InlineData("""{"id":3,"result":{"data":"AAAA""")]
    public void A_read_without_readable_data_is_unreadable(string json)
        => Assert.Null(ArtifactContent.ReadChunk(System.Text.Encoding.UTF8.GetBytes(json)));

    [Theory]
    [InlineData("""{"method":"Page.screencastFrame","params":{"data":"AAAA","sessionId":1},"sessionId":"S1"}""", "S1")]
    [InlineData("""{"sessionId":"S2","method":"Page.screencastFrame","params":{}}""", "S2")]
    [InlineData("""{"method":"Page.screencastFrame","params":{"sessionId":"inner"}}""", null)]
    [InlineData("""{"method":"Page.screencastFrame","sessionId":5}""", null)]
    [InlineData("""not json""", null)]
    public void The_top_level_session_is_read_wherever_it_lies(string json, string? expected)
        => Assert.Equal(expected, ArtifactContent.ReadSessionId(System.Text.Encoding.UTF8.GetBytes(json)));
}

public sealed class PdfStreamsTests
{
    [Fact]
    public void Only_reads_of_a_handle_a_PDF_result_named_are_taken_and_each_once()
    {
        var streams = new PdfStreams();
        streams.NoteResult("""{"id":1,"result":{"data":"","stream":"7"},"sessionId":"S"}"""u8);
        streams.NoteCommand("IO.read", "S", 2, """{"id":2,"method":"IO.read","params":{"handle":"7","size":1048576},"sessionId":"S"}"""u8);
        streams.NoteCommand("IO.read", "S", 3, """{"id":3,"method":"IO.read","params":{"handle":"9"},"sessionId":"S"}"""u8); // a trace's stream

        Assert.True(streams.TakeRead("S", 2, out var handle, out var sequence));
        Assert.Equal("7", handle);
        Assert.Equal(0, sequence);
        Assert.False(streams.TakeRead("S", 2, out _, out _));
        Assert.False(streams.TakeRead("S", 3, out _, out _));
        Assert.False(streams.TakeRead(null, 2, out _, out _));
    }

    [Fact]
    public void A_closed_stream_is_forgotten_and_results_without_a_stream_name_none()
    {
        var streams = new PdfStreams();
        streams.NoteResult("""{"id":1,"result":{"data":"JVBERi0="}}"""u8);
        streams.NoteResult("""{"id":1,"result":{"data":"","stream":7}}"""u8);
        streams.NoteCommand("IO.read", null, 2, """{"id":2,"method":"IO.read","params":{"handle":"7"}}"""u8);
        Assert.False(streams.TakeRead(null, 2, out _, out _));

        streams.NoteResult("""{"id":4,"result":{"stream":"8","data":""}}"""u8);
        streams.NoteCommand("IO.close", null, 5, """{"id":5,"method":"IO.close","params":{"handle":"8"}}"""u8);
        streams.NoteCommand("IO.read", null, 6, """{"id":6,"method":"IO.read","params":{"handle":"8"}}"""u8);
        Assert.False(streams.TakeRead(null, 6, out _, out _));
    }

    [Fact]
    public void Handles_are_bounded()
    {
        var streams = new PdfStreams();
        for (var i = 0; i < 10_000; i++)
        {
            streams.NoteResult(System.Text.Encoding.UTF8.GetBytes($$$"""{"id":{{{i}}},"result":{"data":"","stream":"{{{i}}}"}}"""));
            streams.NoteCommand("IO.read", null, i, System.Text.Encoding.UTF8.GetBytes($$$"""{"id":{{{i}}},"method":"IO.read","params":{"handle":"{{{i}}}"}}"""));
        }

        // The newest are still followed; the tables never held more than their bound (no way to see it but memory,
        // so the oldest being forgotten is what shows the bound).
        Assert.True(streams.TakeRead(null, 9_999, out _, out _));
        Assert.False(streams.TakeRead(null, 0, out _, out _));
    }
}
