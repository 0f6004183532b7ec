using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Bctrl.Relay.EndToEndTests.Infrastructure;
using Bctrl.Relay.Testing;
using PuppeteerSharp;

namespace Bctrl.Relay.EndToEndTests.Artifacts;

/// <summary>
/// docs/artifacts.md against a real Chromium driven by PuppeteerSharp: a lease with <c>record.artifacts</c> keeps the
/// screenshots, PDFs and sampled screencast frames its client received, byte for byte; a lease without keeps nothing.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class ArtifactTests(ChromiumFixture fixture)
{
    [Fact(Timeout = 120_000)]
    public async Task A_recording_lease_keeps_the_screenshot_and_the_pdf_Puppeteer_received_byte_for_byte()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var (connectionId, endpoint) = await ArtifactApi.CreateLeaseAsync(relay, recordArtifacts: true);

        IBrowser? browser = null;
        IPage? page = null;
        try
        {
            browser = await PuppeteerClient.ConnectAsync(endpoint);
            page = await browser.NewPageAsync();
            var response = await page.GoToAsync(fixture.Site.Noise(81).AbsoluteUri);
            Assert.True(response.Ok, $"Navigation answered {response.Status}.");

            // A viewport of noise: a PNG of about 1.4 MB, so its result crosses many reads (and its sessionId lies far
            // past the sampled prefix).
            var png = await page.ScreenshotDataAsync();
            Png.AssertValid(png);

            // Inline, the default transferMode and the one docs/artifacts.md keeps (page.PdfDataAsync streams it: see
            // the test below), sent on the page's own session as PuppeteerSharp does.
            var printed = await page.Client.SendAsync<JsonElement>("Page.printToPDF", new { printBackground = true });
            var pdf = Convert.FromBase64String(printed.GetProperty("data").GetString()!);
            Assert.Equal("%PDF-", Encoding.ASCII.GetString(pdf, 0, 5));

            var listed = await ArtifactApi.WaitForListAsync(
                relay, l => l.Length >= 2, "a screenshot and a pdf", connectionId: connectionId);
            Assert.Equal(["screenshot", "pdf"], listed.Select(a => a.GetProperty("kind").GetString()));

            var screenshot = listed[0];
            ArtifactApi.AssertRecord(screenshot, connectionId, "screenshot", "Page.captureScreenshot");
            Assert.Equal("image/png", screenshot.GetProperty("contentType").GetString());
            Assert.Equal(png.Length, screenshot.GetProperty("size").GetInt64());
            AssertCommandOf(screenshot, page);
            var (storedPng, pngType) = await ArtifactApi.GetBytesAsync(relay, screenshot);
            Assert.Equal("image/png", pngType);
            Assert.True(png.AsSpan().SequenceEqual(storedPng), $"The stored screenshot ({storedPng.Length} bytes) is not the {png.Length} bytes PuppeteerSharp received.");

            var document = listed[1];
            ArtifactApi.AssertRecord(document, connectionId, "pdf", "Page.printToPDF");
            Assert.Equal("application/pdf", document.GetProperty("contentType").GetString());
            Assert.Equal(pdf.Length, document.GetProperty("size").GetInt64());
            AssertCommandOf(document, page);
            var (storedPdf, pdfType) = await ArtifactApi.GetBytesAsync(relay, document);
            Assert.Equal("application/pdf", pdfType);
            Assert.True(pdf.AsSpan().SequenceEqual(storedPdf), $"The stored PDF ({storedPdf.Length} bytes) is not the {pdf.Length} bytes PuppeteerSharp received.");

            // Both came over the one attach; the counters agree with the list.
            Assert.Equal(screenshot.GetProperty("attachId").GetInt64(), document.GetProperty("attachId").GetInt64());
            Assert.NotEqual(screenshot.GetProperty("commandId").GetInt64(), document.GetProperty("commandId").GetInt64());
            Assert.Equal(1, await ArtifactApi.ReadCounterAsync(relay, "stored", "kind=\"screenshot\""));
            Assert.Equal(1, await ArtifactApi.ReadCounterAsync(relay, "stored", "kind=\"pdf\""));
        }
        finally
        {
            await PuppeteerClient.ReleaseAsync(browser, page);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task A_pdf_Puppeteer_reads_as_a_stream_is_kept_whole_once_its_last_chunk_passes()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var (connectionId, endpoint) = await ArtifactApi.CreateLeaseAsync(relay, recordArtifacts: true);

        IBrowser? browser = null;
        IPage? page = null;
        try
        {
            browser = await PuppeteerClient.ConnectAsync(endpoint);
            page = await browser.NewPageAsync();
            Assert.True((await page.GoToAsync(fixture.Site.Noise(84).AbsoluteUri)).Ok);

            // PuppeteerSharp asks for transferMode ReturnAsStream and reads the document with IO.read: the result of
            // Page.printToPDF holds a stream handle and an empty "data", never the document.
            var pdf = await page.PdfDataAsync();
            Assert.Equal("%PDF-", Encoding.ASCII.GetString(pdf, 0, 5));

            // The barrier: captures are stored in the order taken, so once this screenshot is listed the PDF's result
            // has been handled one way or the other.
            var png = await page.ScreenshotDataAsync();
            var listed = await ArtifactApi.WaitForListAsync(
                relay, l => l.Any(a => a.GetProperty("kind").GetString() == "screenshot"), "the barrier screenshot", connectionId: connectionId);
            Assert.Equal(png, (await ArtifactApi.GetBytesAsync(relay, listed.Single(a => a.GetProperty("kind").GetString() == "screenshot"))).Bytes);

            // docs/artifacts.md, "Streamed PDFs": the relay follows the IO.read results of the stream the result named
            // and keeps the document once its last chunk passed, with the origin of the Page.printToPDF result.
            var kept = Assert.Single(listed, a => a.GetProperty("kind").GetString() == "pdf");
            Assert.Equal("Page.printToPDF", kept.GetProperty("method").GetString());
            Assert.True(kept.TryGetProperty("commandId", out _));
            var (bytes, contentType) = await ArtifactApi.GetBytesAsync(relay, kept);
            Assert.Equal("application/pdf", contentType);
            Assert.True(pdf.AsSpan().SequenceEqual(bytes), $"The streamed PDF was kept as {bytes.Length} bytes, not the {pdf.Length}-byte document PuppeteerSharp read.");
        }
        finally
        {
            await PuppeteerClient.ReleaseAsync(browser, page);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task A_lease_without_record_keeps_nothing_of_the_same_actions()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var (plainId, plainEndpoint) = await ArtifactApi.CreateLeaseAsync(relay, recordArtifacts: false);
        var (recordingId, recordingEndpoint) = await ArtifactApi.CreateLeaseAsync(relay, recordArtifacts: true);

        IBrowser? plain = null;
        IPage? plainPage = null;
        IBrowser? recording = null;
        IPage? recordingPage = null;
        try
        {
            plain = await PuppeteerClient.ConnectAsync(plainEndpoint);
            plainPage = await plain.NewPageAsync();
            Assert.True((await plainPage.GoToAsync(fixture.Site.Noise(82).AbsoluteUri)).Ok);
            Png.AssertValid(await plainPage.ScreenshotDataAsync());
            var plainPdf = await plainPage.Client.SendAsync<JsonElement>("Page.printToPDF", new { });
            Assert.False(string.IsNullOrEmpty(plainPdf.GetProperty("data").GetString()));
            await PuppeteerClient.ReleaseAsync(plain, plainPage);

            // The barrier: captures reach the store in the order they were taken (one queue, one pump), so once the
            // recording lease's screenshot is listed, anything the plain lease had captured would be listed too.
            recording = await PuppeteerClient.ConnectAsync(recordingEndpoint);
            recordingPage = await recording.NewPageAsync();
            Assert.True((await recordingPage.GoToAsync(fixture.Site.Noise(83).AbsoluteUri)).Ok);
            var png = await recordingPage.ScreenshotDataAsync();
            var listed = await ArtifactApi.WaitForListAsync(relay, l => l.Length >= 1, "the recording lease's screenshot", connectionId: recordingId);
            var kept = Assert.Single(listed);
            ArtifactApi.AssertRecord(kept, recordingId, "screenshot", "Page.captureScreenshot");
            Assert.Equal(png, (await ArtifactApi.GetBytesAsync(relay, kept)).Bytes);

            Assert.Empty(await ArtifactApi.ListAsync(relay, connectionId: plainId));
            Assert.Equal(kept.GetProperty("id").GetString(), Assert.Single(await ArtifactApi.ListAsync(relay)).GetProperty("id").GetString());
            Assert.Equal(0, await ArtifactApi.ReadCounterAsync(relay, "stored", "kind=\"pdf\""));
            Assert.Equal(1, await ArtifactApi.ReadCounterAsync(relay, "stored", "kind=\"screenshot\""));
        }
        finally
        {
            await PuppeteerClient.ReleaseAsync(plain, plainPage);
            await PuppeteerClient.ReleaseAsync(recording, recordingPage);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task A_screencast_is_kept_as_about_one_frame_a_second_each_one_the_client_received()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var (connectionId, endpoint) = await ArtifactApi.CreateLeaseAsync(relay, recordArtifacts: true);

        IBrowser? browser = null;
        IPage? page = null;
        try
        {
            browser = await PuppeteerClient.ConnectAsync(endpoint);
            page = await browser.NewPageAsync();

            // The solid page redraws a corner on every animation frame, so Chromium keeps producing screencast frames.
            Assert.True((await page.GoToAsync(fixture.Site.Solid("2060c0").AbsoluteUri)).Ok);
            var session = await page.CreateCDPSessionAsync();
            var received = new ConcurrentQueue<byte[]>();
            var acks = Channel.CreateUnbounded<int>();
            void OnMessage(object? sender, MessageEventArgs e)
            {
                if (e.MessageID == "Page.screencastFrame")
                {
                    received.Enqueue(Convert.FromBase64String(e.MessageData.GetProperty("data").GetString()!));
                    acks.Writer.TryWrite(e.MessageData.GetProperty("sessionId").GetInt32());
                }
            }

            // Acknowledged off the event handler: an unacknowledged screencast stops after a few frames.
            var acknowledging = Task.Run(async () =>
            {
                await foreach (var frame in acks.Reader.ReadAllAsync())
                {
                    await session.SendAsync("Page.screencastFrameAck", new { sessionId = frame });
                }
            });

            session.MessageReceived += OnMessage;
            await session.SendAsync("Page.startScreencast", new { format = "jpeg", quality = 60, everyNthFrame = 1 });
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            await session.SendAsync("Page.stopScreencast");
            session.MessageReceived -= OnMessage;
            acks.Writer.Complete();
            await acknowledging.WaitAsync(TimeSpan.FromSeconds(10));
            var clientFrames = received.ToArray();

            // The client saw far more frames than the relay may keep: the sampling, not the page, bounds the count.
            Assert.True(clientFrames.Length >= 5, $"The client got only {clientFrames.Length} screencast frames in 2.5 s.");

            // One at once, then one a second (Relay:Artifacts:ScreencastFrameSeconds): 3 over 2.5 s; 2 or 4 at the edges.
            // The count settles when the store holds the frames the attach took; wait for the minimum, then let the rest land.
            await ArtifactApi.WaitForListAsync(relay, l => l.Length >= 2, "two screencast frames", connectionId: connectionId, kind: "screencastFrame");
            await Task.Delay(TimeSpan.FromSeconds(1));
            var frames = await ArtifactApi.ListAsync(relay, connectionId: connectionId, kind: "screencastFrame");
            Assert.InRange(frames.Length, 2, 4);
            Assert.Equal(frames.Length, (await ArtifactApi.ListAsync(relay, connectionId: connectionId)).Length); // nothing else was kept

            var attachId = frames[0].GetProperty("attachId").GetInt64();
            DateTimeOffset? previous = null;
            foreach (var frame in frames)
            {
                ArtifactApi.AssertRecord(frame, connectionId, "screencastFrame", "Page.screencastFrame");
                Assert.Equal(attachId, frame.GetProperty("attachId").GetInt64());
                Assert.False(frame.TryGetProperty("commandId", out var commandId) && commandId.ValueKind != JsonValueKind.Null, $"An event has no command: {frame}");
                // Chromium writes an event's sessionId after its params, past the sampled prefix of a frame: a
                // frame's record may lack it, but one it has must be the screencast's session.
                if (frame.TryGetProperty("sessionId", out var frameSession) && frameSession.ValueKind != JsonValueKind.Null)
                {
                    Assert.Equal(session.Id, frameSession.GetString());
                }

                Assert.Equal("image/jpeg", frame.GetProperty("contentType").GetString());

                var (bytes, contentType) = await ArtifactApi.GetBytesAsync(relay, frame);
                Assert.Equal("image/jpeg", contentType);
                Assert.True(clientFrames.Any(f => f.AsSpan().SequenceEqual(bytes)), $"Stored frame {frame.GetProperty("id")} ({bytes.Length} bytes) is none of the {clientFrames.Length} frames the client received.");

                // At most one per interval: kept frames are about a second apart, never two from one burst.
                var created = frame.GetProperty("createdAt").GetDateTimeOffset();
                if (previous is { } before)
                {
                    Assert.True(created - before >= TimeSpan.FromSeconds(0.9), $"Two kept frames {created - before} apart; the interval is 1 s.");
                }

                previous = created;
            }

            Assert.Equal(frames.Length, await ArtifactApi.ReadCounterAsync(relay, "stored", "kind=\"screencastFrame\""));
        }
        finally
        {
            await PuppeteerClient.ReleaseAsync(browser, page);
        }
    }

    /// <summary>A result's artifact names the command it answered, on the page's session.</summary>
    private static void AssertCommandOf(JsonElement artifact, IPage page)
    {
        Assert.True(artifact.TryGetProperty("commandId", out var commandId) && commandId.ValueKind == JsonValueKind.Number && commandId.GetInt64() > 0,
            $"A result's artifact must carry its commandId: {artifact}");
        Assert.Equal(page.Client.Id, artifact.GetProperty("sessionId").GetString());
    }
}
