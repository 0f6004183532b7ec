using System.Collections.Concurrent;
using System.Text.Json;
using Bctrl.Relay.EndToEndTests.Infrastructure;
using Bctrl.Relay.Testing;
using PuppeteerSharp;

namespace Bctrl.Relay.EndToEndTests.Artifacts;

/// <summary>
/// docs/artifacts.md, "Downloads", against a real Chromium: a client sets the download behaviour on the browser's own
/// session through the relay and clicks a link to an attachment; the relay keeps the finished file when it lands in a
/// directory the operator listed, and counts it lost (<c>download_unreachable</c>) when none is.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class DownloadArtifactTests(ChromiumFixture fixture) : IDisposable
{
    private readonly string _downloads = Directory.CreateTempSubdirectory("relay-e2e-downloads-").FullName;

    public void Dispose() => Directory.Delete(_downloads, recursive: true);

    [Fact(Timeout = 120_000)]
    public async Task A_finished_download_in_a_listed_directory_is_kept_once_with_the_served_bytes_and_its_suggested_name()
    {
        await using var site = await DownloadSite.StartAsync();
        await using var relay = await Relays.StartAsync(fixture, settings: new Dictionary<string, string?> { ["Relay:Artifacts:DownloadDirectories:0"] = _downloads });
        var (connectionId, endpoint) = await ArtifactApi.CreateLeaseAsync(relay, recordArtifacts: true);

        var download = await DownloadAsync(endpoint, site);
        Assert.Equal(DownloadSite.FileName, download.SuggestedFilename);

        // "allowAndName" names the file by its guid in the directory the client gave: the browser wrote what was served.
        Assert.Equal(site.Content, await File.ReadAllBytesAsync(Path.Combine(_downloads, download.Guid)));

        var downloads = await ListDownloadsAfterBarrierAsync(relay, connectionId, download.Barrier);
        Assert.NotEmpty(downloads);
        foreach (var kept in downloads)
        {
            ArtifactApi.AssertRecord(kept, connectionId, "download", kept.GetProperty("method").GetString()!);
            Assert.EndsWith(".downloadProgress", kept.GetProperty("method").GetString(), StringComparison.Ordinal);
            Assert.Equal(site.Content.Length, kept.GetProperty("size").GetInt64());
            Assert.Equal("application/octet-stream", kept.GetProperty("contentType").GetString());
            Assert.DoesNotContain(site.BaseUrl.Authority, kept.GetRawText(), StringComparison.Ordinal); // never the download's URL
            Assert.False(kept.TryGetProperty("commandId", out var commandId) && commandId.ValueKind != JsonValueKind.Null, $"An event has no command: {kept}");

            var (bytes, contentType) = await ArtifactApi.GetBytesAsync(relay, kept);
            Assert.Equal("application/octet-stream", contentType);
            Assert.True(site.Content.AsSpan().SequenceEqual(bytes), $"The stored download ({bytes.Length} bytes) is not the {site.Content.Length} bytes served.");
        }

        Assert.Equal(0, await ArtifactApi.ReadCounterAsync(relay, "lost", "reason=\"download_unreachable\""));

        // One download, one artifact, named as the browser suggested. Chromium reports a download twice over one
        // Puppeteer attach: Browser.download* on the session that set the behaviour, and Page.download* on the page's
        // own session (Puppeteer enables the Page domain), with the same guid.
        var only = Assert.Single(downloads);
        Assert.Equal(DownloadSite.FileName, only.GetProperty("name").GetString());
        Assert.Equal(1, await ArtifactApi.ReadCounterAsync(relay, "stored", "kind=\"download\""));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_download_with_no_directory_listed_is_counted_unreachable_once_and_not_listed()
    {
        await using var site = await DownloadSite.StartAsync();
        await using var relay = await Relays.StartAsync(fixture);
        var (connectionId, endpoint) = await ArtifactApi.CreateLeaseAsync(relay, recordArtifacts: true);

        // The browser writes the file all the same: only the relay may not read it.
        var download = await DownloadAsync(endpoint, site);
        Assert.Equal(site.Content, await File.ReadAllBytesAsync(Path.Combine(_downloads, download.Guid)));

        Assert.Empty(await ListDownloadsAfterBarrierAsync(relay, connectionId, download.Barrier));
        Assert.Empty(await ArtifactApi.ListAsync(relay, kind: "download"));
        Assert.Equal(0, await ArtifactApi.ReadCounterAsync(relay, "stored", "kind=\"download\""));

        // The pump counted the loss before it stored the barrier, so the count is final. One download, one loss (see
        // the test above for the two events Chromium sends of it).
        Assert.Equal(1, await ArtifactApi.ReadCounterAsync(relay, "lost", "reason=\"download_unreachable\""));
    }

    /// <summary>
    /// The connection's downloads once the barrier screenshot (taken after the download completed, on the same attach)
    /// is listed: captures are stored in the order taken, one queue and one pump, so the list of downloads is final then.
    /// </summary>
    private static async Task<JsonElement[]> ListDownloadsAfterBarrierAsync(RelayServer relay, string connectionId, byte[] barrier)
    {
        var listed = await ArtifactApi.WaitForListAsync(
            relay, l => l.Any(a => a.GetProperty("kind").GetString() == "screenshot"), "the barrier screenshot", connectionId: connectionId);
        var screenshot = listed.Single(a => a.GetProperty("kind").GetString() == "screenshot");
        Assert.Equal(barrier, (await ArtifactApi.GetBytesAsync(relay, screenshot)).Bytes);
        return [.. listed.Where(a => a.GetProperty("kind").GetString() == "download")];
    }

    /// <summary>
    /// Through the lease: lets the browser download into <see cref="_downloads"/> with events (on the browser target's
    /// session, where <c>Browser.setDownloadBehavior</c> lives), clicks the site's link, and waits (bounded) for the
    /// download to complete; then takes a screenshot on the same attach, the barrier for what the relay made of it.
    /// Restores the browser's default behaviour after, as the collection's Chromium is shared.
    /// </summary>
    private async Task<Download> DownloadAsync(Uri endpoint, DownloadSite site)
    {
        IBrowser? browser = null;
        IPage? page = null;
        ICDPSession? browserSession = null;
        try
        {
            browser = await PuppeteerClient.ConnectAsync(endpoint);
            browserSession = await browser.Target.CreateCDPSessionAsync();
            var names = new ConcurrentDictionary<string, string>();
            var completed = new TaskCompletionSource<(string Guid, string? Name, string State)>(TaskCreationOptions.RunContinuationsAsynchronously);
            browserSession.MessageReceived += (_, e) =>
            {
                switch (e.MessageID)
                {
                    case "Browser.downloadWillBegin":
                        names[e.MessageData.GetProperty("guid").GetString()!] = e.MessageData.GetProperty("suggestedFilename").GetString()!;
                        break;
                    case "Browser.downloadProgress" when e.MessageData.GetProperty("state").GetString() is "completed" or "canceled":
                        var guid = e.MessageData.GetProperty("guid").GetString()!;
                        completed.TrySetResult((guid, names.GetValueOrDefault(guid), e.MessageData.GetProperty("state").GetString()!));
                        break;
                }
            };

            await browserSession.SendAsync("Browser.setDownloadBehavior", new { behavior = "allowAndName", downloadPath = _downloads, eventsEnabled = true });
            page = await browser.NewPageAsync();
            Assert.True((await page.GoToAsync(site.Page.AbsoluteUri)).Ok);
            await page.ClickAsync("#file");

            var (guid, name, state) = await completed.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal("completed", state);
            var barrier = await page.ScreenshotDataAsync();
            return new Download(guid, name, barrier);
        }
        finally
        {
            if (browserSession is not null && browser is { IsConnected: true })
            {
                try
                {
                    await browserSession.SendAsync("Browser.setDownloadBehavior", new { behavior = "default" });
                }
                catch (PuppeteerException)
                {
                    // The attach is gone; the next test that downloads sets its own behaviour anyway.
                }
            }

            await PuppeteerClient.ReleaseAsync(browser, page);
        }
    }

    /// <param name="Barrier">The screenshot taken on the attach after the download completed.</param>
    private sealed record Download(string Guid, string? SuggestedFilename, byte[] Barrier);
}
