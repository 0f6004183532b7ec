using System.Text;
using Bctrl.Relay.Artifacts;
using Bctrl.Relay.Frames;
using Bctrl.Relay.Observation;
using Bctrl.Relay.Tests.Observation;
using Microsoft.Extensions.Time.Testing;

namespace Bctrl.Relay.Tests.Artifacts;

/// <summary>
/// Which runtime messages the sampler (<see cref="AttachObserver"/>) hands to its <see cref="ArtifactCapture"/>
/// (docs/artifacts.md): the successful results of <c>Page.captureScreenshot</c> and <c>Page.printToPDF</c>, a screencast
/// frame per interval, and download events; nothing else. Each message is then fed to the capture as the runtime
/// pump would, so what the capture took is what is checked.
/// </summary>
public sealed class ArtifactObserverTests
{
    private const string RuntimeId = "rt-artifacts";
    private static readonly Guid ConnectionId = Guid.Parse("5f0c3e2a-8b1d-4e6f-a7c9-2d4b6e8f0a13");
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly RecordingSink _records = new();
    private readonly RecordingArtifactSink _artifacts = new();
    private readonly FakeTimeProvider _time = new(Start);

    [Fact]
    public void A_screenshot_result_begins_a_capture_that_takes_the_whole_result()
    {
        var observer = NewObserver();
        Client(observer, """{"id":5,"method":"Page.captureScreenshot","params":{"format":"png"},"sessionId":"S"}""");
        _time.Advance(TimeSpan.FromMilliseconds(40));
        var result = """{"id":5,"result":{"data":"iVBORw0KGgo="},"sessionId":"S"}""";

        Runtime(observer, result);

        var taken = Assert.Single(_artifacts.Taken);
        Assert.Equal(Encoding.UTF8.GetBytes(result), taken.Bytes);
        Assert.Equal(ArtifactKind.Screenshot, taken.Message.Kind);
        Assert.Equal("Page.captureScreenshot", taken.Message.Method);
        Assert.Equal(5, taken.Message.CommandId);
        Assert.Equal("S", taken.Message.SessionId);
        Assert.Equal(RuntimeId, taken.Message.RuntimeId);
        Assert.Equal(ConnectionId, taken.Message.ConnectionId);
        Assert.Equal(17, taken.Message.AttachId);
        Assert.Equal(Start.AddMilliseconds(40), taken.Message.CapturedAt);
        Assert.Empty(_artifacts.Lost);

        // The result is recorded as ever.
        Assert.Equal("Page.captureScreenshot", Assert.Single(_records.OfType(RecordTypes.CdpResult)).Method);
    }

    [Theory]
    [InlineData(new int[0])]              // one frame
    [InlineData(new[] { 700, 3000 })]     // three frames, the first shorter than the prefix
    [InlineData(new[] { 5000, 5000 })]    // three frames, the last empty
    public void A_large_result_whose_session_lies_past_the_prefix_is_captured_whole(int[] frameLengths)
    {
        // Chromium writes the sessionId last: behind 10 KB of data the sampler matches the result by its id alone.
        var observer = NewObserver();
        Client(observer, """{"id":5,"method":"Page.captureScreenshot","sessionId":"S"}""");
        var result = $$$"""{"id":5,"result":{"data":"{{{new string('A', 10_000)}}}"},"sessionId":"S"}""";

        Runtime(observer, result, frameLengths);

        var taken = Assert.Single(_artifacts.Taken);
        Assert.Equal(Encoding.UTF8.GetBytes(result), taken.Bytes);
        Assert.Equal("S", taken.Message.SessionId);
        Assert.Equal(5, taken.Message.CommandId);
    }

    [Fact]
    public void A_pdf_result_is_captured_as_a_pdf()
    {
        var observer = NewObserver();
        Client(observer, """{"id":9,"method":"Page.printToPDF","params":{}}""");
        var result = """{"id":9,"result":{"data":"JVBERi0=","stream":null}}""";

        Runtime(observer, result);

        var taken = Assert.Single(_artifacts.Taken);
        Assert.Equal(ArtifactKind.Pdf, taken.Message.Kind);
        Assert.Equal("Page.printToPDF", taken.Message.Method);
        Assert.Null(taken.Message.SessionId);
        Assert.Equal(Encoding.UTF8.GetBytes(result), taken.Bytes);
    }

    [Fact]
    public void An_error_result_to_a_screenshot_begins_no_capture()
    {
        var observer = NewObserver();
        Client(observer, """{"id":5,"method":"Page.captureScreenshot","sessionId":"S"}""");

        Runtime(observer, """{"id":5,"error":{"code":-32000,"message":"Unable to capture screenshot"},"sessionId":"S"}""");

        Assert.Empty(_artifacts.Taken);
        Assert.Empty(_artifacts.Lost);
        Assert.True(Assert.Single(_records.OfType(RecordTypes.CdpResult)).Error);
    }

    [Theory]
    [InlineData("""{"id":5,"method":"Page.navigate","params":{"url":"http://127.0.0.1/"},"sessionId":"S"}""")]
    [InlineData("""{"id":5,"method":"Page.captureScreenshot","sessionId":"OTHER"}""")] // the same id, another session
    [InlineData("""{"id":6,"method":"Page.captureScreenshot","sessionId":"S"}""")]     // another id
    public void A_result_to_anything_else_begins_no_capture(string command)
    {
        var observer = NewObserver();
        Client(observer, command);

        Runtime(observer, """{"id":5,"result":{"data":"iVBORw0KGgo="},"sessionId":"S"}""");

        Assert.Empty(_artifacts.Taken);
        Assert.Empty(_artifacts.Lost);
    }

    [Fact]
    public void Screencast_frames_are_captured_one_per_interval_on_the_observer_s_clock()
    {
        var observer = NewObserver();
        var frame = """{"method":"Page.screencastFrame","params":{"data":"/9j/4AAQ","metadata":{},"sessionId":1},"sessionId":"S"}""";

        Runtime(observer, frame);
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Runtime(observer, frame);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Runtime(observer, frame);

        Assert.Equal(2, _artifacts.Taken.Count);
        Assert.Equal([Start, Start.AddSeconds(1)], _artifacts.Taken.Select(t => t.Message.CapturedAt));
        Assert.All(_artifacts.Taken, t =>
        {
            Assert.Equal(ArtifactKind.ScreencastFrame, t.Message.Kind);
            Assert.Equal("Page.screencastFrame", t.Message.Method);
            Assert.Null(t.Message.CommandId);
            Assert.Equal("S", t.Message.SessionId);
            Assert.Equal(Encoding.UTF8.GetBytes(frame), t.Bytes);
        });

        // Every frame is still an event to the record, sampled or not for artifacts.
        Assert.Equal(3, _records.OfType(RecordTypes.CdpEvent).Count);
    }

    [Fact]
    public void No_screencast_frame_is_captured_with_a_zero_interval()
    {
        var observer = NewObserver(ArtifactSettings.Default with { ScreencastFrameInterval = TimeSpan.Zero });

        for (var i = 0; i < 5; i++)
        {
            Runtime(observer, """{"method":"Page.screencastFrame","params":{"data":"/9j/4AAQ","sessionId":1}}""");
            _time.Advance(TimeSpan.FromSeconds(2));
        }

        Assert.Empty(_artifacts.Taken);
        Assert.Equal(5, _records.OfType(RecordTypes.CdpEvent).Count);
    }

    [Theory]
    [InlineData("Browser.downloadWillBegin")]
    [InlineData("Browser.downloadProgress")]
    [InlineData("Page.downloadWillBegin")]
    [InlineData("Page.downloadProgress")]
    public void Download_events_are_captured(string method)
    {
        var observer = NewObserver();
        var download = $$$"""{"method":"{{{method}}}","params":{"guid":"0f6a3c1e-4d2b-4a8e-9c7d-1b2e3f4a5b6c","state":"completed"}}""";

        Runtime(observer, download);
        Runtime(observer, download); // none is sampled away: every download event counts

        Assert.Equal(2, _artifacts.Taken.Count);
        Assert.All(_artifacts.Taken, t =>
        {
            Assert.Equal(ArtifactKind.Download, t.Message.Kind);
            Assert.Equal(method, t.Message.Method);
            Assert.Null(t.Message.CommandId);
            Assert.Equal(Encoding.UTF8.GetBytes(download), t.Bytes);
        });
    }

    [Theory]
    [InlineData("""{"method":"Page.lifecycleEvent","params":{"name":"load"},"sessionId":"S"}""")]
    [InlineData("""{"method":"Page.screencastVisibilityChanged","params":{"visible":true}}""")]
    [InlineData("""{"method":"Browser.downloadWillBeginX","params":{"guid":"g"}}""")]
    [InlineData("""{"method":"Network.dataReceived","params":{"data":"iVBORw0KGgo="}}""")]
    public void Other_events_begin_no_capture(string json)
    {
        var observer = NewObserver();

        Runtime(observer, json);

        Assert.Empty(_artifacts.Taken);
        Assert.Empty(_artifacts.Lost);
    }

    [Fact]
    public void A_result_over_the_cap_is_counted_too_large_and_the_attach_goes_on()
    {
        var observer = NewObserver(new ArtifactSettings(MaxMessageBytes: 4096, ScreencastFrameInterval: TimeSpan.FromSeconds(1)));
        Client(observer, """{"id":1,"method":"Page.captureScreenshot"}""");
        Client(observer, """{"id":2,"method":"Page.captureScreenshot"}""");

        Runtime(observer, $$$"""{"id":1,"result":{"data":"{{{new string('A', 5000)}}}"}}""");
        var small = """{"id":2,"result":{"data":"iVBORw0KGgo="}}""";
        Runtime(observer, small);

        Assert.Equal([ArtifactLoss.TooLarge], _artifacts.Lost);
        Assert.Equal(Encoding.UTF8.GetBytes(small), Assert.Single(_artifacts.Taken).Bytes);
        Assert.Equal(2, _records.OfType(RecordTypes.CdpResult).Count);
    }

    [Fact]
    public void Without_a_capture_every_such_message_is_only_recorded()
    {
        var observer = new AttachObserver(RuntimeId, ConnectionId, 17, ObservationSettings.Default, _records, _time);
        Assert.Null(observer.Capture);

        Client(observer, """{"id":5,"method":"Page.captureScreenshot","sessionId":"S"}""");
        Runtime(observer, """{"id":5,"result":{"data":"iVBORw0KGgo="},"sessionId":"S"}""");
        Client(observer, """{"id":6,"method":"Page.printToPDF"}""");
        Runtime(observer, $$$"""{"id":6,"result":{"data":"{{{new string('A', 5000)}}}"}}""", 2000);
        Runtime(observer, """{"method":"Page.screencastFrame","params":{"data":"/9j/4AAQ","sessionId":1}}""");
        Runtime(observer, """{"method":"Browser.downloadProgress","params":{"guid":"g","state":"completed"}}""");

        Assert.Equal(["Page.captureScreenshot", "Page.printToPDF"], _records.OfType(RecordTypes.CdpResult).Select(r => r.Method));
        Assert.Equal(["Page.screencastFrame", "Browser.downloadProgress"], _records.OfType(RecordTypes.CdpEvent).Select(r => r.Method));
        Assert.Empty(_artifacts.Taken);
    }

    private AttachObserver NewObserver(ArtifactSettings? settings = null)
        => new(RuntimeId, ConnectionId, 17, ObservationSettings.Default, _records, _time, new ArtifactCapture(_artifacts, settings ?? ArtifactSettings.Default));

    private static void Client(AttachObserver observer, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        observer.OnClientMessage(bytes, bytes.Length, isWholeMessage: true);
    }

    /// <summary>
    /// A runtime message as the runtime pump hands it over: each frame's header to the capture, the first frame's
    /// prefix to the sampler, then each frame's payload to the capture while it copies. The message is cut into frames
    /// of <paramref name="frameLengths"/> and a last one with the rest.
    /// </summary>
    private static void Runtime(AttachObserver observer, string json, params int[] frameLengths)
    {
        var payload = Encoding.UTF8.GetBytes(json);
        var frames = new List<byte[]>();
        var offset = 0;
        foreach (var length in frameLengths)
        {
            frames.Add(payload[offset..(offset + length)]);
            offset += length;
        }

        frames.Add(payload[offset..]);
        for (var i = 0; i < frames.Count; i++)
        {
            var frame = frames[i];
            var fin = i == frames.Count - 1;
            observer.Capture?.OnFrameIfActive(new FrameHeader(fin, i == 0 ? WebSocketOpcode.Text : WebSocketOpcode.Continuation, false, 0, frame.Length, 2));
            if (i == 0)
            {
                var prefix = Math.Min(observer.PrefixBytes, frame.Length);
                observer.OnRuntimeMessage(frame.AsSpan(0, prefix), frame.Length, isWholeMessage: fin && prefix == frame.Length, fin);
            }

            if (frame.Length > 0 && observer.Capture is { Active: true } capture)
            {
                capture.Feed(frame, frameEnds: true);
            }
        }
    }
}
