using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Bctrl.Relay.DevRuntime;
using Bctrl.Relay.EndToEndTests.Infrastructure;
using Bctrl.Relay.LiveView;
using Bctrl.Relay.Metrics;
using Bctrl.Relay.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Bctrl.Relay.EndToEndTests.LiveView;

/// <summary>
/// The live view (docs/live-view.md) against the collection's Chromium as the runtime. The viewer page runs in a second
/// headless Chromium launched by Playwright; the runtime is made to show a known page over a plain CDP socket, which
/// is also where its title (the click counter) is read back.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class LiveViewTests(ChromiumFixture fixture, ITestOutputHelper output)
{
    /// <summary>The share of the viewer canvas's pixels (sampled) within 40 of the colour in each channel, 0 before the first frame.</summary>
    private const string ShareOfColour = """
        ([r, g, b]) => {
          if (!window.liveView || window.liveView.frames === 0) return 0;
          const canvas = document.getElementById('view');
          const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let match = 0, total = 0;
          for (let i = 0; i < data.length; i += 4 * 7) {
            total++;
            if (Math.abs(data[i] - r) < 40 && Math.abs(data[i + 1] - g) < 40 && Math.abs(data[i + 2] - b) < 40) match++;
          }
          return match / total;
        }
        """;

    [Fact(Timeout = 120_000)]
    public async Task The_viewer_page_shows_the_runtimes_page()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var connection = await relay.CreateConnectionAsync(Relays.RuntimeId, new { protocol = "live" });
        Assert.Equal("live", connection.GetProperty("protocol").GetString());
        Assert.False(connection.GetProperty("interactive").GetBoolean());
        var url = connection.GetProperty("endpoint").GetProperty("url").GetString()!;
        Assert.StartsWith($"http://{relay.BaseUrl.Authority}/live/", url, StringComparison.Ordinal);

        await using var viewer = await ViewerBrowser.OpenAsync(url);
        await WaitForSessionAsync(relay);
        await using var runtime = await RuntimePage.OpenAsync(fixture, fixture.Site.Solid("00c000"));
        await viewer.WaitForColourAsync(0, 192, 0);
        Assert.True(await viewer.ShareOfAsync(0, 192, 0) > 0.8);

        // What a person would see: a screenshot of the viewer's canvas is a real image of the page's size or less.
        var (width, height) = Png.AssertValid(await viewer.Page.Locator("#view").ScreenshotAsync());
        Assert.InRange(width, 100, LiveSession.MaxFrameWidth);
        Assert.InRange(height, 100, LiveSession.MaxFrameHeight);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_click_in_an_interactive_viewer_reaches_the_runtime()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var connection = await relay.CreateConnectionAsync(Relays.RuntimeId, new { protocol = "live", interactive = true });
        Assert.True(connection.GetProperty("interactive").GetBoolean());
        await using var viewer = await ViewerBrowser.OpenAsync(connection.GetProperty("endpoint").GetProperty("url").GetString()!);
        await viewer.Page.WaitForFunctionAsync("() => document.getElementById('status').textContent === 'live, interactive'");
        await WaitForSessionAsync(relay);
        await using var runtime = await RuntimePage.OpenAsync(fixture, fixture.Site.Clicks);
        await viewer.WaitForColourAsync(255, 255, 255);

        var box = await viewer.Page.Locator("#view").BoundingBoxAsync() ?? throw new InvalidOperationException("No canvas.");
        await viewer.Page.Mouse.ClickAsync(box.X + (box.Width / 2), box.Y + (box.Height / 2));
        Assert.Equal("clicks 1", await runtime.WaitForTitleAsync(title => title != "clicks 0", TimeSpan.FromSeconds(15)));
        Assert.True(relay.Services.GetRequiredService<LiveViewMetrics>().InputDispatched >= 2); // pressed and released
    }

    [Fact(Timeout = 120_000)]
    public async Task Viewers_share_one_screencast_and_a_viewer_that_does_not_read_holds_one_frame()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var metrics = relay.Services.GetRequiredService<LiveViewMetrics>();
        var sessions = relay.Services.GetRequiredService<LiveSessions>();
        var url = (await relay.CreateConnectionAsync(Relays.RuntimeId, new { protocol = "live" })).GetProperty("endpoint").GetProperty("url").GetString()!;

        await using var reading = await LiveSocket.ConnectAsync(url);
        await WaitForSessionAsync(relay);
        await using var runtime = await RuntimePage.OpenAsync(fixture, fixture.Site.Solid("2040c0", noise: true));
        await reading.WaitForFramesAsync(5, TimeSpan.FromSeconds(20));
        var started = metrics.ScreencastsStarted;
        Assert.Equal(2, started); // the page shown first, then the new tab

        var before = GC.GetTotalMemory(forceFullCollection: true);
        var droppedBefore = metrics.FramesDropped;
        await using var stalled = await LiveSocket.ConnectAsync(url, read: false);
        var framesBefore = reading.Frames;
        await Task.Delay(TimeSpan.FromSeconds(6));
        var after = GC.GetTotalMemory(forceFullCollection: true);

        Assert.Equal(started, metrics.ScreencastsStarted);
        Assert.Equal(1, sessions.Count);
        Assert.Equal(2, metrics.Viewers);
        Assert.True(reading.Frames > framesBefore + 5, $"The reading viewer got {reading.Frames - framesBefore} frames beside the stalled one.");
        Assert.True(metrics.FramesDropped > droppedBefore, "No frame was replaced for the viewer that does not read.");
        Assert.True(after - before < 16 << 20, $"Memory grew by {(after - before) >> 20} MiB while a viewer did not read.");
        output.WriteLine($"stalled viewer: {metrics.FramesDropped - droppedBefore} frames replaced in 6 s; managed memory {(after - before) / 1024} KiB more; reading viewer {(reading.Frames - framesBefore) / 6.0:F1} frames/s");
    }

    [Fact(Timeout = 120_000)]
    public async Task Terminate_closes_viewers_and_a_lease_opens_only_its_own_protocol()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var metrics = relay.Services.GetRequiredService<LiveViewMetrics>();
        var connection = await relay.CreateConnectionAsync(Relays.RuntimeId, new { protocol = "live" });
        var url = connection.GetProperty("endpoint").GetProperty("url").GetString()!;
        var token = url[(url.LastIndexOf('/') + 1)..];
        var (_, cdpUrl) = await relay.CreateConnectionAsync(Relays.RuntimeId);
        var cdpToken = cdpUrl.AbsolutePath[(cdpUrl.AbsolutePath.LastIndexOf('/') + 1)..];

        using (var wrongPath = await relay.Http.GetAsync($"/cdp/{token}/json/version"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrongPath.StatusCode);
            Assert.Contains("lease_protocol_mismatch", await wrongPath.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var wrongLease = await relay.Http.GetAsync($"/live/{cdpToken}"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrongLease.StatusCode);
            Assert.Contains("lease_protocol_mismatch", await wrongLease.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var page = await relay.Http.GetAsync(new Uri(url)))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("no-store", page.Headers.CacheControl?.ToString());
            Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        }

        using (var refused = await relay.Http.PostAsJsonAsync($"v1/runtimes/{Relays.RuntimeId}/connections", new { protocol = "cdp", interactive = true }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("invalid_interactive", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await using var viewer = await LiveSocket.ConnectAsync(url);
        await viewer.HelloReceived.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Contains("\"interactive\":false", viewer.Hello, StringComparison.Ordinal);
        await viewer.SendTextAsync("""{"type":"mouse","event":"mousePressed","x":0.5,"y":0.5,"button":"left","clickCount":1}""");
        await WaitUntilAsync(() => metrics.InputDropped == 1, "the input of a viewer that is not interactive was dropped and counted");
        Assert.Equal(0, metrics.InputDispatched);

        await relay.DeleteConnectionAsync(Relays.RuntimeId, connection.GetProperty("id").GetString()!, terminate: true);
        await viewer.Closed.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(4001, (int?)viewer.CloseStatus);
        await WaitUntilAsync(() => metrics.Viewers == 0, "the viewer left");
        using var afterDelete = await relay.Http.GetAsync(new Uri(url));
        Assert.Equal(HttpStatusCode.Unauthorized, afterDelete.StatusCode);

        // The names deploy/validate/validate.mjs lists in RELAY_METRICS.
        var scrape = await relay.Http.GetStringAsync("/metrics");
        Assert.Contains("bctrl_relay_live_viewers{", scrape, StringComparison.Ordinal);
        Assert.Contains("bctrl_relay_live_frames_total{", scrape, StringComparison.Ordinal);
        Assert.Contains("bctrl_relay_live_screencasts_total{", scrape, StringComparison.Ordinal);
        Assert.Contains("bctrl_relay_live_input_total{", scrape, StringComparison.Ordinal);
        Assert.Contains("result=\"not_interactive\"", scrape, StringComparison.Ordinal);
    }

    /// <summary>
    /// Report only (docs/live-view.md, "Cost"): the viewer's frame rate and the CPU of this process (the relay, and the
    /// test's own small share) with 1 and 4 viewers. Nothing is asserted about time.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task Frame_rate_and_relay_cpu_per_viewer_are_reported()
    {
        await using var relay = await Relays.StartAsync(fixture);
        var url = (await relay.CreateConnectionAsync(Relays.RuntimeId, new { protocol = "live" })).GetProperty("endpoint").GetProperty("url").GetString()!;
        await using var viewer = await ViewerBrowser.OpenAsync(url);
        await WaitForSessionAsync(relay);
        await using var runtime = await RuntimePage.OpenAsync(fixture, fixture.Site.Solid("c08000"));
        await viewer.WaitForColourAsync(192, 128, 0);

        await MeasureAsync(viewer); // warm-up: the first seconds include the relay's JIT and the session's set-up
        var (fps, cpu) = await MeasureAsync(viewer);
        output.WriteLine($"1 viewer: {fps:F1} frames/s drawn by the viewer page; relay process CPU {cpu:P1} of one core");
        var more = new List<LiveSocket>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                more.Add(await LiveSocket.ConnectAsync(url));
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
            var (fps4, cpu4) = await MeasureAsync(viewer);
            output.WriteLine($"4 viewers: {fps4:F1} frames/s drawn by the viewer page; relay process CPU {cpu4:P1} of one core ({(cpu4 - cpu) / 3:P2} per added viewer)");
            Assert.True(fps > 0 && fps4 > 0);
        }
        finally
        {
            foreach (var socket in more)
            {
                await socket.DisposeAsync();
            }
        }
    }

    private static async Task<(double Fps, double Cpu)> MeasureAsync(ViewerBrowser viewer)
    {
        var process = Process.GetCurrentProcess();
        var frames = await viewer.Page.EvaluateAsync<int>("() => window.liveView.frames");
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(5));
        process.Refresh();
        var cpuUsed = process.TotalProcessorTime - cpu;
        var drawn = await viewer.Page.EvaluateAsync<int>("() => window.liveView.frames") - frames;
        return (drawn / clock.Elapsed.TotalSeconds, cpuUsed / clock.Elapsed);
    }

    /// <summary>
    /// Waits until the lease's live session shows a page, so that the tab the test opens next is a new tab it follows
    /// (a tab created while the session is still listing targets is one it already knows, and may not be listed first).
    /// </summary>
    private static Task WaitForSessionAsync(RelayServer relay)
    {
        var metrics = relay.Services.GetRequiredService<LiveViewMetrics>();
        return WaitUntilAsync(() => metrics.ScreencastsStarted >= 1, "the live session shows a page");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {what}.");
            await Task.Delay(50);
        }
    }

    /// <summary>A second headless Chromium, launched by Playwright from the same binary as the runtime, showing the viewer page.</summary>
    private sealed class ViewerBrowser : IAsyncDisposable
    {
        private readonly IPlaywright _playwright;
        private readonly IBrowser _browser;

        private ViewerBrowser(IPlaywright playwright, IBrowser browser, IPage page)
        {
            _playwright = playwright;
            _browser = browser;
            Page = page;
        }

        public IPage Page { get; }

        public static async Task<ViewerBrowser> OpenAsync(string url)
        {
            var configured = Environment.GetEnvironmentVariable("BCTRL_E2E_CHROMIUM");
            var executable = ChromiumProcess.Find(string.IsNullOrEmpty(configured) && File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium" : configured)
                ?? throw new InvalidOperationException("No Chromium for the viewer.");
            var playwright = await Playwright.CreateAsync();
            IBrowser? browser = null;
            try
            {
                browser = await playwright.Chromium.LaunchAsync(new()
                {
                    ExecutablePath = executable,
                    Headless = true,
                    Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
                    Timeout = 30_000,
                });
                var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 900, Height = 700 } });
                await page.GotoAsync(url);
                await page.WaitForFunctionAsync("() => document.getElementById('status').textContent.startsWith('live')", null, new() { Timeout = 15_000 });
                return new ViewerBrowser(playwright, browser, page);
            }
            catch
            {
                if (browser is not null)
                {
                    await browser.CloseAsync();
                }

                playwright.Dispose();
                throw;
            }
        }

        public Task<double> ShareOfAsync(int r, int g, int b) => Page.EvaluateAsync<double>(ShareOfColour, new[] { r, g, b });

        public async Task WaitForColourAsync(int r, int g, int b)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            double share;
            while ((share = await ShareOfAsync(r, g, b)) < 0.8)
            {
                Assert.True(DateTime.UtcNow < deadline, $"The viewer shows {share:P0} of rgb({r},{g},{b}) after 30 s.");
                await Task.Delay(100);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _browser.CloseAsync();
            _playwright.Dispose();
        }
    }

    /// <summary>A tab the test opens in the runtime over its browser socket, and closes again.</summary>
    private sealed class RuntimePage : IAsyncDisposable
    {
        private readonly CdpSocket _browser;
        private readonly string _targetId;

        private RuntimePage(CdpSocket browser, string targetId)
        {
            _browser = browser;
            _targetId = targetId;
        }

        public static async Task<RuntimePage> OpenAsync(ChromiumFixture fixture, Uri url)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            var browser = await CdpSocket.ConnectAsync(fixture.Chromium.BrowserUrl, timeout.Token);
            var created = await browser.SendAsync("Target.createTarget", new { url = url.AbsoluteUri }, timeout.Token);
            return new RuntimePage(browser, created.GetProperty("targetId").GetString()!);
        }

        /// <summary>Polls the tab's title (Target.getTargets) until <paramref name="done"/> says so; returns it.</summary>
        public async Task<string> WaitForTitleAsync(Func<string, bool> done, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                using var step = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                var targets = await _browser.SendAsync("Target.getTargets", null, step.Token);
                var title = targets.GetProperty("targetInfos").EnumerateArray()
                    .Where(t => t.GetProperty("targetId").GetString() == _targetId)
                    .Select(t => t.GetProperty("title").GetString() ?? string.Empty)
                    .FirstOrDefault() ?? string.Empty;
                if (done(title) || DateTime.UtcNow > deadline)
                {
                    return title;
                }

                await Task.Delay(100);
            }
        }

        public async ValueTask DisposeAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _browser.SendAsync("Target.closeTarget", new { targetId = _targetId }, timeout.Token);
            }
            finally
            {
                await _browser.DisposeAsync();
            }
        }
    }
}
