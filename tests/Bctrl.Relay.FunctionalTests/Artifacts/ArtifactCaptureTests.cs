using System.Text;
using System.Text.Json;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Artifacts;

/// <summary>
/// docs/artifacts.md on the fake runtime: what a lease with <c>record.artifacts</c> keeps, cut by frames and reads as
/// the runtime likes, what it loses and counts, and that the client always gets every byte as the runtime sent it.
/// </summary>
public sealed class ArtifactCaptureTests
{
    [Theory(Timeout = 60_000)]
    [InlineData(1, 0)]        // one frame, written at once
    [InlineData(1, 997)]      // one frame, in reads of 997 bytes
    [InlineData(5, 0)]        // five frames
    [InlineData(5, 1499)]     // five frames, reads cutting headers and the prefix
    public async Task A_screenshot_result_is_stored_whole_however_frames_and_reads_cut_it(int frames, int chunk)
    {
        await using var rig = await SpliceHarness.StartAsync(connection: ArtifactRig.Lease);
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;
        await ArtifactRig.SendCommandAsync(client, runtime, 7, "Page.captureScreenshot");

        var png = ArtifactRig.Png(48 * 1024);
        var message = ArtifactRig.DataResult(7, png);
        var wire = Fragment(message, frames);
        if (chunk == 0)
        {
            await runtime.SendRawAsync(wire);
        }
        else
        {
            for (var offset = 0; offset < wire.Length; offset += chunk)
            {
                await runtime.SendRawAsync(wire[offset..Math.Min(wire.Length, offset + chunk)]);
                await Task.Delay(2);
            }
        }

        // The client gets the message as the runtime sent it, frame for frame.
        var received = new List<byte>();
        for (var i = 0; i < frames; i++)
        {
            var frame = await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(i == 0 ? FakeRuntimeFrame.Text : FakeRuntimeFrame.Continuation, frame.Opcode);
            Assert.Equal(i == frames - 1, frame.Fin);
            received.AddRange(frame.Payload);
        }

        Assert.Equal(message, received.ToArray());

        var listed = Assert.Single(await ArtifactRig.WaitForListAsync(rig.Relay, 1));
        Assert.Equal("screenshot", listed.GetProperty("kind").GetString());
        Assert.Equal("Page.captureScreenshot", listed.GetProperty("method").GetString());
        Assert.Equal(7, listed.GetProperty("commandId").GetInt64());
        Assert.Equal("S", listed.GetProperty("sessionId").GetString());
        Assert.Equal(rig.ConnectionId, listed.GetProperty("connectionId").GetString());
        Assert.Equal("image/png", listed.GetProperty("contentType").GetString());
        Assert.Equal(png.Length, listed.GetProperty("size").GetInt64());
        Assert.True(listed.GetProperty("attachId").GetInt64() != 0);

        var (bytes, contentType) = await ArtifactRig.GetBytesAsync(rig.Relay, listed.GetProperty("id").GetString()!);
        Assert.Equal(png, bytes);
        Assert.Equal("image/png", contentType);
        await ArtifactRig.CloseAsync(client, runtime);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_PDF_is_stored_and_a_lease_without_record_artifacts_keeps_nothing()
    {
        await using var rig = await SpliceHarness.StartAsync();
        var pdf = Encoding.ASCII.GetBytes("%PDF-1.7\n" + new string('x', 3000) + "\n%%EOF");

        // A plain lease: the same traffic passes, nothing is kept.
        var (plain, plainRuntime) = await rig.AttachAsync();
        await using (plain)
        {
            await ArtifactRig.SendCommandAsync(plain, plainRuntime, 1, "Page.printToPDF");
            await plainRuntime.SendFrameAsync(FakeRuntimeFrame.Text, ArtifactRig.DataResult(1, pdf));
            Assert.Equal(ArtifactRig.DataResult(1, pdf), (await plain.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10))).Payload);
            await ArtifactRig.CloseAsync(plain, plainRuntime);
        }

        // Then a lease that keeps artifacts, on the same relay: its PDF is stored, and it is the only artifact (the
        // pump takes captures in order, so the plain lease's would have come first).
        var created = await rig.Relay.CreateConnectionAsync(SpliceHarness.RuntimeId, ArtifactRig.Lease);
        Assert.True(created.GetProperty("record").GetProperty("artifacts").GetBoolean());
        await using var client = await RawClient.OpenAsync(new Uri(created.GetProperty("endpoint").GetProperty("url").GetString()!));
        var runtime = await rig.Runtime.NextConnectionAsync();
        await ArtifactRig.SendCommandAsync(client, runtime, 2, "Page.printToPDF");
        await runtime.SendFrameAsync(FakeRuntimeFrame.Text, ArtifactRig.DataResult(2, pdf));
        await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10));

        var listed = Assert.Single(await ArtifactRig.WaitForListAsync(rig.Relay, 1));
        Assert.Equal(created.GetProperty("id").GetString(), listed.GetProperty("connectionId").GetString());
        Assert.Equal("pdf", listed.GetProperty("kind").GetString());
        Assert.Equal("application/pdf", listed.GetProperty("contentType").GetString());
        Assert.Equal(pdf, (await ArtifactRig.GetBytesAsync(rig.Relay, listed.GetProperty("id").GetString()!)).Bytes);
        await ArtifactRig.CloseAsync(client, runtime);

        // GET of the connection says what it records; the plain one says nothing.
        using var shown = JsonDocument.Parse(await rig.Relay.Http.GetStringAsync($"/v1/runtimes/{SpliceHarness.RuntimeId}/connections/{created.GetProperty("id").GetString()}"));
        Assert.True(shown.RootElement.GetProperty("record").GetProperty("artifacts").GetBoolean());
        using var plainShown = JsonDocument.Parse(await rig.Relay.Http.GetStringAsync($"/v1/runtimes/{SpliceHarness.RuntimeId}/connections/{rig.ConnectionId}"));
        Assert.False(plainShown.RootElement.TryGetProperty("record", out _));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_PDF_read_as_a_stream_is_kept_whole_from_its_reads_and_other_streams_are_not()
    {
        await using var rig = await SpliceHarness.StartAsync(connection: ArtifactRig.Lease);
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;
        var document = Encoding.ASCII.GetBytes("%PDF-1.7\n" + new string('p', 70_000) + "\n%%EOF");
        var (first, second) = (document[..40_000], document[40_000..]);

        // Puppeteer's page.pdf(): the result names a stream, the client reads it to eof, then closes it.
        await client.SendFrameAsync(FakeRuntimeFrame.Text, Encoding.UTF8.GetBytes("""{"id":1,"method":"Page.printToPDF","params":{"transferMode":"ReturnAsStream"},"sessionId":"S"}"""));
        await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await Answer("""{"id":1,"result":{"data":"","stream":"7"},"sessionId":"S"}""");
        await Read(2, "7", Encoding.UTF8.GetBytes($$$"""{"id":2,"result":{"base64Encoded":true,"data":"{{{Convert.ToBase64String(first)}}}","eof":false},"sessionId":"S"}"""), frames: 3);

        // A read of another stream (a trace's) in between is not the PDF's, and is never kept.
        await Read(3, "9", Encoding.UTF8.GetBytes($$$"""{"id":3,"result":{"base64Encoded":true,"data":"{{{Convert.ToBase64String(ArtifactRig.Png(500))}}}","eof":true},"sessionId":"S"}"""), frames: 1);
        await Read(4, "7", Encoding.UTF8.GetBytes($$$"""{"id":4,"result":{"base64Encoded":true,"data":"{{{Convert.ToBase64String(second)}}}","eof":true},"sessionId":"S"}"""), frames: 2);

        var listed = Assert.Single(await ArtifactRig.WaitForListAsync(rig.Relay, 1));
        Assert.Equal("pdf", listed.GetProperty("kind").GetString());
        Assert.Equal("Page.printToPDF", listed.GetProperty("method").GetString());
        Assert.Equal(1, listed.GetProperty("commandId").GetInt64());
        Assert.Equal("application/pdf", listed.GetProperty("contentType").GetString());
        Assert.Equal(document, (await ArtifactRig.GetBytesAsync(rig.Relay, listed.GetProperty("id").GetString()!)).Bytes);
        await ArtifactRig.WaitForCountAsync(rig.Relay, "stored", "pdf", 1);
        await ArtifactRig.CloseAsync(client, runtime);
        Assert.Single(await ArtifactRig.ListAsync(rig.Relay));

        async Task Answer(string json)
        {
            await runtime.SendFrameAsync(FakeRuntimeFrame.Text, Encoding.UTF8.GetBytes(json));
            Assert.Equal(json, (await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10))).PayloadText);
        }

        async Task Read(long id, string handle, byte[] result, int frames)
        {
            await ArtifactRig.SendCommandAsync(client, runtime, 0, "IO.read", $$$"""{"id":{{{id}}},"method":"IO.read","params":{"handle":"{{{handle}}}"},"sessionId":"S"}""");
            await runtime.SendRawAsync(Fragment(result, frames));
            for (var i = 0; i < frames; i++)
            {
                await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_streamed_PDF_missing_a_chunk_is_not_kept_with_a_hole()
    {
        await using var rig = await SpliceHarness.StartAsync(
            settings: new Dictionary<string, string?> { ["Relay:Artifacts:MaxBytes"] = "4096" }, connection: ArtifactRig.Lease);
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;
        await ArtifactRig.SendCommandAsync(client, runtime, 0, "Page.printToPDF", """{"id":1,"method":"Page.printToPDF","params":{"transferMode":"ReturnAsStream"}}""");
        await Pass("""{"id":1,"result":{"data":"","stream":"7"}}""");

        // Three reads: the middle chunk is over the cap, so it is not captured; the PDF would lack it.
        var chunks = new[] { 1000, 6000, 500 };
        for (var i = 0; i < chunks.Length; i++)
        {
            await ArtifactRig.SendCommandAsync(client, runtime, 0, "IO.read", $$$"""{"id":{{{i + 2}}},"method":"IO.read","params":{"handle":"7"}}""");
            var data = Convert.ToBase64String(Encoding.ASCII.GetBytes(new string('p', chunks[i])));
            await Pass($$$"""{"id":{{{i + 2}}},"result":{"base64Encoded":true,"data":"{{{data}}}","eof":{{{(i == chunks.Length - 1 ? "true" : "false")}}}}}""");
        }

        await ArtifactRig.WaitForCountAsync(rig.Relay, "lost", "too_large", 1);
        await ArtifactRig.WaitForCountAsync(rig.Relay, "lost", "unreadable", 1);
        Assert.Empty(await ArtifactRig.ListAsync(rig.Relay));
        await ArtifactRig.CloseAsync(client, runtime);

        async Task Pass(string json)
        {
            await runtime.SendFrameAsync(FakeRuntimeFrame.Text, Encoding.UTF8.GetBytes(json));
            Assert.Equal(json, (await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10))).PayloadText);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Results_that_are_errors_or_answer_other_commands_are_not_kept()
    {
        await using var rig = await SpliceHarness.StartAsync(connection: ArtifactRig.Lease);
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;
        var png = ArtifactRig.Png(2000);

        // An error answer to a screenshot, a data result to another method, and a screenshot in another session with
        // the same id: only the last is a screenshot's result.
        await ArtifactRig.SendCommandAsync(client, runtime, 1, "Page.captureScreenshot");
        await runtime.SendFrameAsync(FakeRuntimeFrame.Text, Encoding.UTF8.GetBytes("""{"id":1,"error":{"code":-32000,"message":"Unable to capture screenshot"},"sessionId":"S"}"""));
        await ArtifactRig.SendCommandAsync(client, runtime, 2, "IO.read");
        await runtime.SendFrameAsync(FakeRuntimeFrame.Text, ArtifactRig.DataResult(2, png));
        await client.SendFrameAsync(FakeRuntimeFrame.Text, ArtifactRig.Command(2, "Page.captureScreenshot", session: "T"));
        await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await runtime.SendFrameAsync(FakeRuntimeFrame.Text, ArtifactRig.DataResult(2, png, session: "T"));
        for (var i = 0; i < 3; i++)
        {
            await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        var listed = Assert.Single(await ArtifactRig.WaitForListAsync(rig.Relay, 1));
        Assert.Equal("T", listed.GetProperty("sessionId").GetString());
        await ArtifactRig.CloseAsync(client, runtime);
        Assert.Single(await ArtifactRig.ListAsync(rig.Relay));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_message_over_the_cap_reaches_the_client_whole_and_is_counted_lost()
    {
        await using var rig = await SpliceHarness.StartAsync(
            settings: new Dictionary<string, string?> { ["Relay:Artifacts:MaxBytes"] = "4096" }, connection: ArtifactRig.Lease);
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;

        // One frame over the cap (lost at its header), then a fragmented one that grows past it (lost mid-way).
        var big = ArtifactRig.DataResult(1, ArtifactRig.Png(8000));
        await ArtifactRig.SendCommandAsync(client, runtime, 1, "Page.captureScreenshot");
        await runtime.SendFrameAsync(FakeRuntimeFrame.Text, big);
        Assert.Equal(big, (await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10))).Payload);

        var growing = ArtifactRig.DataResult(2, ArtifactRig.Png(8000));
        await ArtifactRig.SendCommandAsync(client, runtime, 2, "Page.captureScreenshot");
        await runtime.SendRawAsync(Fragment(growing, 4));
        var received = new List<byte>();
        for (var i = 0; i < 4; i++)
        {
            received.AddRange((await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10))).Payload);
        }

        Assert.Equal(growing, received.ToArray());
        await ArtifactRig.WaitForCountAsync(rig.Relay, "lost", "too_large", 2);

        // A small one after them is kept: the attach and its capture carry on.
        var small = ArtifactRig.Png(1000);
        await ArtifactRig.SendCommandAsync(client, runtime, 3, "Page.captureScreenshot");
        await runtime.SendFrameAsync(FakeRuntimeFrame.Text, ArtifactRig.DataResult(3, small));
        await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var listed = Assert.Single(await ArtifactRig.WaitForListAsync(rig.Relay, 1));
        Assert.Equal(3, listed.GetProperty("commandId").GetInt64());
        await ArtifactRig.CloseAsync(client, runtime);
    }

    [Fact(Timeout = 60_000)]
    public async Task Screencast_frames_are_kept_one_per_interval()
    {
        await using var rig = await SpliceHarness.StartAsync(
            settings: new Dictionary<string, string?> { ["Relay:Artifacts:ScreencastFrameSeconds"] = "1" }, connection: ArtifactRig.Lease);
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;

        // Ten frames at once: the first is kept, the rest fall inside its second.
        for (var i = 1; i <= 10; i++)
        {
            await runtime.SendFrameAsync(FakeRuntimeFrame.Text, ArtifactRig.ScreencastFrame(ArtifactRig.Png(3000, seed: i), i));
        }

        for (var i = 1; i <= 10; i++)
        {
            await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        var first = Assert.Single(await ArtifactRig.WaitForListAsync(rig.Relay, 1));
        Assert.Equal("screencastFrame", first.GetProperty("kind").GetString());
        Assert.False(first.TryGetProperty("commandId", out _));
        Assert.Equal(ArtifactRig.Png(3000, seed: 1), (await ArtifactRig.GetBytesAsync(rig.Relay, first.GetProperty("id").GetString()!)).Bytes);

        // A second later the next frame is kept.
        await Task.Delay(1100);
        await runtime.SendFrameAsync(FakeRuntimeFrame.Text, ArtifactRig.ScreencastFrame(ArtifactRig.Png(3000, seed: 11), 11));
        await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var two = await ArtifactRig.WaitForListAsync(rig.Relay, 2);
        Assert.Equal(ArtifactRig.Png(3000, seed: 11), (await ArtifactRig.GetBytesAsync(rig.Relay, two[1].GetProperty("id").GetString()!)).Bytes);
        await ArtifactRig.WaitForCountAsync(rig.Relay, "stored", "screencastFrame", 2);
        await ArtifactRig.CloseAsync(client, runtime);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_result_whose_data_is_not_base64_is_counted_unreadable()
    {
        await using var rig = await SpliceHarness.StartAsync(connection: ArtifactRig.Lease);
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;
        await ArtifactRig.SendCommandAsync(client, runtime, 1, "Page.captureScreenshot");
        await runtime.SendFrameAsync(FakeRuntimeFrame.Text, Encoding.UTF8.GetBytes("""{"id":1,"result":{"data":"not base64 at all!"},"sessionId":"S"}"""));
        await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await ArtifactRig.WaitForCountAsync(rig.Relay, "lost", "unreadable", 1);
        Assert.Empty(await ArtifactRig.ListAsync(rig.Relay));
        await ArtifactRig.CloseAsync(client, runtime);
    }

    /// <summary>The message as <paramref name="frames"/> unmasked frames (a text frame, then continuations), as a runtime writes them.</summary>
    internal static byte[] Fragment(byte[] message, int frames)
    {
        var wire = new List<byte>();
        var size = (message.Length + frames - 1) / frames;
        for (var i = 0; i < frames; i++)
        {
            var part = message.AsSpan(Math.Min(message.Length, i * size), Math.Min(size, Math.Max(0, message.Length - (i * size))));
            wire.AddRange(FakeRuntimeFrame.Encode(i == 0 ? FakeRuntimeFrame.Text : FakeRuntimeFrame.Continuation, part, fin: i == frames - 1));
        }

        return [.. wire];
    }
}
