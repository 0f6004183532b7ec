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
