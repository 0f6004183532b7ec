using System.Net.WebSockets;
using System.Text;
using Bctrl.Relay.Client;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Client;

/// <summary>
/// A relay on 127.0.0.1:0 with an echoing fake runtime registered as <see cref="RuntimeId"/>, and a
/// <see cref="RelayClient"/> of it; helpers to attach through a lease and to read the event stream.
/// </summary>
internal sealed class ClientRig : IAsyncDisposable
{
    public const string RuntimeId = "rt-client";

    private ClientRig(RelayServer relay, FakeRuntime runtime)
    {
        Relay = relay;
        Runtime = runtime;
        Client = new RelayClient(relay.BaseUrl, RelayServer.ControlKey);
    }

    public RelayServer Relay { get; }

    public FakeRuntime Runtime { get; }

    public RelayClient Client { get; }

    public RuntimeClient Rt => Client.Runtimes[RuntimeId];

    public static async Task<ClientRig> StartAsync()
    {
        var runtime = FakeRuntime.Start();
        runtime.Echo = true;
        try
        {
            var relay = await RelayServer.StartAsync();
            try
            {
                await relay.PutRuntimeAsync(RuntimeId, runtime.WebSocketUrl);
                return new ClientRig(relay, runtime);
            }
            catch
            {
                await relay.DisposeAsync();
                throw;
            }
        }
        catch
        {
            await runtime.DisposeAsync();
            throw;
        }
    }

    /// <summary>Attaches through <paramref name="url"/> with a real WebSocket client.</summary>
    public static async Task<ClientWebSocket> AttachAsync(Uri url)
    {
        var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(url, timeout.Token);
        return socket;
    }

    /// <summary>Sends CDP commands <paramref name="first"/>…<paramref name="last"/> and reads each one's echo.</summary>
    public static async Task CommandsAsync(ClientWebSocket socket, int first, int last, string method = "Page.navigate")
    {
        var buffer = new byte[4096];
        for (var id = first; id <= last; id++)
        {
            var command = Encoding.UTF8.GetBytes($$$"""{"id":{{{id}}},"method":"{{{method}}}","params":{}}""");
            await socket.SendAsync(command, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal(command, buffer[..received.Count]);
        }
    }

    public static async Task CloseAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        socket.Dispose();
    }

    /// <summary>The stream's records from <paramref name="filter"/> on until one matches <paramref name="until"/>.</summary>
    public static async Task<List<RelayEvent>> ReadUntilAsync(
        RuntimeClient runtime, Func<RelayEvent, bool> until, EventFilter? filter = null, Action<RelayEvent>? each = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<RelayEvent>();
        await foreach (var record in runtime.Events.StreamAsync(filter, timeout.Token))
        {
            seen.Add(record);
            each?.Invoke(record);
            if (until(record))
            {
                break;
            }
        }

        return seen;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Relay.DisposeAsync();
        await Runtime.DisposeAsync();
    }
}
