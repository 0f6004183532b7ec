using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Bctrl.Relay.Metrics;
using Bctrl.Relay.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bctrl.Relay.FunctionalTests.LiveView;

/// <summary>
/// The live view's socket on a real relay (docs/live-view.md) with the fake runtime, which accepts the session's CDP
/// connection and answers nothing: how viewers end and how hostile input is handled, without a browser.
/// </summary>
public sealed class LiveViewSocketTests
{
    private const string RuntimeId = "r1";

    [Fact(Timeout = 30_000)]
    public async Task A_runtime_that_cannot_be_reached_closes_the_viewer_with_1014()
    {
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync(RuntimeId, new Uri($"ws://127.0.0.1:{ClosedPort()}/devtools/browser/x"));
        using var viewer = await ConnectAsync(relay, interactive: false);

        Assert.Equal("""{"type":"hello","interactive":false}""", await ReceiveTextAsync(viewer));
        Assert.Null(await ReceiveTextAsync(viewer));
        Assert.Equal(1014, (int?)viewer.CloseStatus);
        await WaitUntilAsync(() => relay.Services.GetRequiredService<LiveViewMetrics>().Viewers == 0);
    }

    [Fact(Timeout = 30_000)]
    public async Task Shutting_down_closes_the_viewer_with_1001()
    {
        await using var runtime = FakeRuntime.Start();
        var relay = await RelayServer.StartAsync();
        ClientWebSocket viewer;
        try
        {
            await relay.PutRuntimeAsync(RuntimeId, runtime.WebSocketUrl);
            viewer = await ConnectAsync(relay, interactive: false);
            await ReceiveTextAsync(viewer);
            await using var session = await runtime.NextConnectionAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            await relay.DisposeAsync();
        }

        using (viewer)
        {
            Assert.Null(await ReceiveTextAsync(viewer));
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, viewer.CloseStatus);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Invalid_input_is_counted_and_dropped_and_oversized_or_binary_input_closes_the_viewer()
    {
        await using var runtime = FakeRuntime.Start();
        await using var relay = await RelayServer.StartAsync();
        await relay.PutRuntimeAsync(RuntimeId, runtime.WebSocketUrl);
        var metrics = relay.Services.GetRequiredService<LiveViewMetrics>();

        using (var viewer = await ConnectAsync(relay, interactive: true))
        {
            Assert.Equal("""{"type":"hello","interactive":true}""", await ReceiveTextAsync(viewer));
            foreach (var message in (string[])["{", """{"type":"mouse","event":"mouseMoved","x":7,"y":0}""", """{"type":"key","event":"keyDown","evil":1}"""])
            {
                await viewer.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }

            // Counted in process: a scrape can also see the meters of other relays this test process runs beside it.
            await WaitUntilAsync(() => metrics.InputRefused == 3);
            Assert.Equal(WebSocketState.Open, viewer.State);
            await viewer.SendAsync(new byte[2048], WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            Assert.Null(await ReceiveTextAsync(viewer));
            Assert.Equal(WebSocketCloseStatus.MessageTooBig, viewer.CloseStatus);
        }

        using (var viewer = await ConnectAsync(relay, interactive: true))
        {
            await ReceiveTextAsync(viewer);
            await viewer.SendAsync(new byte[16], WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            Assert.Null(await ReceiveTextAsync(viewer));
            Assert.Equal(WebSocketCloseStatus.InvalidMessageType, viewer.CloseStatus);
        }

        await WaitUntilAsync(() => metrics.Viewers == 0);
        Assert.Equal(0, metrics.InputDispatched);
    }

    private static async Task<ClientWebSocket> ConnectAsync(RelayServer relay, bool interactive)
    {
        var created = await relay.CreateConnectionAsync(RuntimeId, new { protocol = "live", interactive });
        var page = created.GetProperty("endpoint").GetProperty("url").GetString()!;
        var socket = new ClientWebSocket();
        socket.Options.Proxy = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(new Uri("ws" + page["http".Length..] + "/socket"), timeout.Token);
        return socket;
    }

    /// <summary>The next text message, or null once the relay has closed (frames are skipped).</summary>
    private static async Task<string?> ReceiveTextAsync(ClientWebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            if (received.MessageType == WebSocketMessageType.Text)
            {
                return Encoding.UTF8.GetString(buffer, 0, received.Count);
            }
        }
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out.");
            await Task.Delay(50);
        }
    }
}
