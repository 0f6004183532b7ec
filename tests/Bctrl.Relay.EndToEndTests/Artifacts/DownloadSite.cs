using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bctrl.Relay.EndToEndTests.Artifacts;

/// <summary>
/// A page with a link to a file served as an attachment (<c>Content-Disposition: attachment</c>), on Kestrel at
/// 127.0.0.1:0 like <see cref="Infrastructure.TestSite"/>: clicking the link makes Chromium download the file rather
/// than show it. The file is made up per test, so a stored artifact can only equal it if it is this download.
/// </summary>
internal sealed class DownloadSite : IAsyncDisposable
{
    /// <summary>The name the attachment suggests, which Chromium reports as <c>suggestedFilename</c>.</summary>
    public const string FileName = "relay-e2e-report.csv";

    private readonly WebApplication _app;

    private DownloadSite(WebApplication app, Uri baseUrl, byte[] content)
    {
        _app = app;
        BaseUrl = baseUrl;
        Content = content;
    }

    public Uri BaseUrl { get; }

    /// <summary>The page whose link (<c>#file</c>) downloads the file.</summary>
    public Uri Page => new(BaseUrl, "page");

    /// <summary>The file's bytes, as served.</summary>
    public byte[] Content { get; }

    public static async Task<DownloadSite> StartAsync()
    {
        // Text (a .csv, which Chromium never holds back as dangerous), unique to this site, and larger than one read.
        var marker = Guid.NewGuid().ToString("N");
        var text = new StringBuilder("row,marker,value\n");
        for (var row = 0; row < 4000; row++)
        {
            text.Append(row).Append(',').Append(marker).Append(',').Append(row * 7919 % 10007).Append('\n');
        }

        var content = Encoding.UTF8.GetBytes(text.ToString());
        var builder = WebApplication.CreateSlimBuilder(["--urls", "http://127.0.0.1:0", "--environment", "Testing"]);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/page", () => Results.Content(
            $"""
            <!doctype html>
            <html><head><meta charset="utf-8"><title>downloads</title></head>
            <body><a id="file" href="/files/report">the report</a></body></html>
            """,
            "text/html; charset=utf-8"));
        app.MapGet("/files/report", () => Results.File(content, "text/csv", FileName));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DownloadSite(app, new Uri(address.TrimEnd('/') + "/"), content);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
