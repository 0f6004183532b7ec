using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bctrl.Relay.EndToEndTests.Infrastructure;

/// <summary>
/// The pages the browser loads, served by Kestrel on 127.0.0.1:0 (Chromium reaches loopback with no proxy).
/// <c>/noise?seed=N</c> is a page <see cref="NoiseWidth"/> × <see cref="NoiseHeight"/> CSS pixels of random colour: a
/// PNG cannot compress noise, so its full-page screenshot is about 3 bytes a pixel (≈ 5.8 MB, ≈ 7.7 MB as the base64
/// of a CDP message), far over 1 MiB, and taller than any viewport, so only a full-page capture has its height.
/// </summary>
internal sealed class TestSite : IAsyncDisposable
{
    public const int NoiseWidth = 800;
    public const int NoiseHeight = 2400;

    private readonly WebApplication _app;

    private TestSite(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>Like <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseUrl { get; }

    public static async Task<TestSite> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(["--urls", "http://127.0.0.1:0", "--environment", "Testing"]);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/noise", (int? seed) => Results.Content(NoisePage(seed ?? 1), "text/html; charset=utf-8"));
        app.MapGet("/solid", (string? colour, bool? noise) => Results.Content(SolidPage(colour ?? "ff0000", noise ?? false), "text/html; charset=utf-8"));
        app.MapGet("/clicks", () => Results.Content(ClicksPage, "text/html; charset=utf-8"));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestSite(app, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>The noise page of one seed; its title is <see cref="NoiseTitle"/>.</summary>
    public Uri Noise(int seed) => new(BaseUrl, "noise?seed=" + seed.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// A page of one colour (<c>rrggbb</c>) with a 16 px square in its top-left corner that changes on every animation
    /// frame, so the page keeps producing screencast frames; with <paramref name="noise"/>, a 640 × 480 canvas of
    /// fresh noise each frame instead (large JPEG frames, for the slow viewer).
    /// </summary>
    public Uri Solid(string colour, bool noise = false) => new(BaseUrl, $"solid?colour={colour}&noise={(noise ? "true" : "false")}");

    /// <summary>A white page whose title counts clicks: <c>clicks N</c>.</summary>
    public Uri Clicks => new(BaseUrl, "clicks");

    public static string NoiseTitle(int seed) => "noise " + seed.ToString(CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static string SolidPage(string colour, bool noise)
    {
        var safe = colour.Length == 6 && colour.All(Uri.IsHexDigit) ? colour : "ff0000";
        var size = noise ? "width=\"640\" height=\"480\"" : "width=\"16\" height=\"16\"";
        return $$"""
            <!doctype html>
            <html>
            <head><meta charset="utf-8"><title>solid {{safe}}</title>
            <style>html, body { margin: 0; height: 100%; background: #{{safe}}; } canvas { position: fixed; left: 0; top: 0; }</style></head>
            <body>
            <canvas id="tick" {{size}}></canvas>
            <script>
            const canvas = document.getElementById('tick');
            const context = canvas.getContext('2d');
            const image = context.createImageData(canvas.width, canvas.height);
            const pixels = new Uint32Array(image.data.buffer);
            let x = 1;
            function tick() {
              for (let i = 0; i < pixels.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; pixels[i] = (x | 0xff000000) >>> 0; }
              context.putImageData(image, 0, 0);
              requestAnimationFrame(tick);
            }
            tick();
            </script>
            </body>
            </html>
            """;
    }

    private const string ClicksPage = """
        <!doctype html>
        <html>
        <head><meta charset="utf-8"><title>clicks 0</title>
        <style>html, body { margin: 0; height: 100%; background: #ffffff; }</style></head>
        <body>
        <script>
        let clicks = 0;
        document.addEventListener('click', () => { clicks++; document.title = 'clicks ' + clicks; });
        </script>
        </body>
        </html>
        """;

    // The canvas is drawn by a synchronous script, so it is complete when the load event fires. Xorshift32 keeps the
    // loop cheap (about 2 M pixels); each 32-bit word is one little-endian RGBA pixel with alpha forced to 255.
    private static string NoisePage(int seed) => $$"""
        <!doctype html>
        <html>
        <head>
        <meta charset="utf-8">
        <title>{{NoiseTitle(seed)}}</title>
        <style>html, body { margin: 0; padding: 0; } canvas { display: block; }</style>
        </head>
        <body>
        <canvas id="noise" width="{{NoiseWidth}}" height="{{NoiseHeight}}"></canvas>
        <script>
        const canvas = document.getElementById('noise');
        const context = canvas.getContext('2d');
        const image = context.createImageData(canvas.width, canvas.height);
        const pixels = new Uint32Array(image.data.buffer);
        let x = {{seed}} | 0 || 1;
        for (let i = 0; i < pixels.length; i++) {
          x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
          pixels[i] = (x | 0xff000000) >>> 0;
        }
        context.putImageData(image, 0, 0);
        window.noiseSeed = {{seed}};
        </script>
        </body>
        </html>
        """;
}
