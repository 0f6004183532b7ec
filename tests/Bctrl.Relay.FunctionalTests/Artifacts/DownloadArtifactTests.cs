using System.Net;
using System.Text;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Artifacts;

/// <summary>docs/artifacts.md, "Downloads", on the fake runtime: a finished download is read from a listed directory only.</summary>
public sealed class DownloadArtifactTests : IDisposable
{
    private readonly string _downloads = Directory.CreateTempSubdirectory("relay-downloads-").FullName;
    private readonly string _elsewhere = Directory.CreateTempSubdirectory("relay-elsewhere-").FullName;

    public void Dispose()
    {
        Directory.Delete(_downloads, recursive: true);
        Directory.Delete(_elsewhere, recursive: true);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_finished_download_in_a_listed_directory_is_stored_with_its_name_and_never_its_url()
    {
        await using var rig = await StartAsync();
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;
        var guid = Guid.NewGuid().ToString();
        var content = Encoding.UTF8.GetBytes("id,total\n1,42\n");
        await File.WriteAllBytesAsync(Path.Combine(_downloads, guid), content);

        await SendEventsAsync(client, runtime,
            $$$"""{"method":"Browser.downloadWillBegin","params":{"frameId":"F","guid":"{{{guid}}}","url":"https://files.example/report.csv?signature=site-secret","suggestedFilename":"report.csv"}}""",
            $$$"""{"method":"Browser.downloadProgress","params":{"guid":"{{{guid}}}","totalBytes":14,"receivedBytes":7,"state":"inProgress"}}""",
            $$$"""{"method":"Browser.downloadProgress","params":{"guid":"{{{guid}}}","totalBytes":14,"receivedBytes":14,"state":"completed","filePath":"{{{Path.Combine(_downloads, guid)}}}"}}""");

        var listed = Assert.Single(await ArtifactRig.WaitForListAsync(rig.Relay, 1));
        Assert.Equal("download", listed.GetProperty("kind").GetString());
        Assert.Equal("Browser.downloadProgress", listed.GetProperty("method").GetString());
        Assert.Equal("report.csv", listed.GetProperty("name").GetString());
        Assert.Equal(content.Length, listed.GetProperty("size").GetInt64());
        Assert.DoesNotContain("site-secret", listed.GetRawText(), StringComparison.Ordinal);

        using var response = await rig.Relay.Http.GetAsync($"/v1/runtimes/{SpliceHarness.RuntimeId}/artifacts/{listed.GetProperty("id").GetString()}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("report.csv", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        await ArtifactRig.CloseAsync(client, runtime);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_download_the_relay_may_not_read_is_counted_unreachable_and_the_attach_goes_on()
    {
        await using var rig = await StartAsync();
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;

        // A file outside every listed directory, named by the runtime's filePath; and a link in the listed directory
        // that points out of it.
        var outside = Path.Combine(_elsewhere, "secret.txt");
        await File.WriteAllTextAsync(outside, "not the runtime's to hand out");
        var linked = Guid.NewGuid().ToString();
        File.CreateSymbolicLink(Path.Combine(_downloads, linked), outside);
        var escaping = Path.Combine(_downloads, "..", Path.GetFileName(_elsewhere), "secret.txt");

        await SendEventsAsync(client, runtime,
            $$$"""{"method":"Browser.downloadProgress","params":{"guid":"{{{Guid.NewGuid()}}}","state":"completed","filePath":"{{{outside}}}"}}""",
            $$$"""{"method":"Browser.downloadProgress","params":{"guid":"{{{linked}}}","state":"completed"}}""",
            $$$"""{"method":"Page.downloadProgress","params":{"guid":"{{{Guid.NewGuid()}}}","state":"completed","filePath":"{{{escaping}}}"}}""",
            $$$"""{"method":"Browser.downloadProgress","params":{"guid":"{{{Guid.NewGuid()}}}","state":"canceled"}}""");

        await ArtifactRig.WaitForCountAsync(rig.Relay, "lost", "download_unreachable", 3);
        Assert.Empty(await ArtifactRig.ListAsync(rig.Relay));

        // The attach carries on, and still keeps what it may.
        await ArtifactRig.SendCommandAsync(client, runtime, 9, "Page.captureScreenshot");
        await runtime.SendFrameAsync(FakeRuntimeFrame.Text, ArtifactRig.DataResult(9, ArtifactRig.Png(500)));
        await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("screenshot", Assert.Single(await ArtifactRig.WaitForListAsync(rig.Relay, 1)).GetProperty("kind").GetString());
        await ArtifactRig.CloseAsync(client, runtime);
    }

    private Task<SpliceHarness> StartAsync() => SpliceHarness.StartAsync(
        settings: new Dictionary<string, string?> { ["Relay:Artifacts:DownloadDirectories:0"] = _downloads }, connection: ArtifactRig.Lease);

    /// <summary>The runtime sends each event; the client gets each as sent.</summary>
    private static async Task SendEventsAsync(RawClient client, FakeRuntimeConnection runtime, params string[] events)
    {
        foreach (var json in events)
        {
            await runtime.SendFrameAsync(FakeRuntimeFrame.Text, Encoding.UTF8.GetBytes(json));
            Assert.Equal(json, (await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10))).PayloadText);
        }
    }
}
