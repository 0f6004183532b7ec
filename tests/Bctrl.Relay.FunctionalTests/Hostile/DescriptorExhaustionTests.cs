using System.Net.Sockets;
using System.Text;
using Bctrl.Relay.FunctionalTests.Processes;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Hostile;

/// <summary>
/// Issue 8, finding 1: connections that never send a byte, beyond the process's file limit, must not take the node
/// down. Before the fix the accept loop spun at 100 % CPU on <c>EMFILE</c> and the runtime aborted; no lease is needed.
/// Here the relay runs as its own process with a lowered file limit (<see cref="RelayChildProcess"/>).
/// </summary>
[Collection(DescriptorCollection.Name)]
public sealed class DescriptorExhaustionTests
{
    private const string RuntimeId = "fake";

    /// <summary>
    /// The connection limit is derived from the file limit (700 descriptors: (700 − 512) / 2 = 94 connections), so the
    /// flood is answered 503 at the limit and the descriptors never run out. A configured limit above that (5,000) is
    /// lowered to it, with a warning: a process out of descriptors dies by the .NET runtime's hand the moment it starts
    /// a thread ("Out of memory.", exit 134; it once took a node down this way 1 time in 5 under load).
    /// </summary>
    [Theory(Timeout = 120_000)]
    [InlineData(null)]
    [InlineData("5000")]
    public async Task Silent_connections_beyond_the_file_limit_get_503_while_live_attaches_echo_and_the_node_recovers(string? maxConnections)
    {
        await using var runtime = EchoRuntime();
        (string, string)[] settings = maxConnections is null
            ? [("Relay:Limits:IdleConnectionTimeout", "00:00:03")]
            : [("Relay:Limits:IdleConnectionTimeout", "00:00:03"), ("Relay:Limits:MaxConnections", maxConnections)];
        await using var relay = await StartRelayAsync(runtime, settings);
        Assert.Equal(maxConnections is not null, relay.Output.Contains("Relay:Limits:MaxConnections is 5000, more than the file limit of 700 allows: holding 94 connections", StringComparison.Ordinal));
        var endpoint = await relay.CreateLeaseAsync(RuntimeId);
        var live = await OpenEchoingAttachesAsync(endpoint, 4);

        var flood = await FloodAsync(relay, 800);
        try
        {
            // Far more than the limit: the last ones are answered 503 at_capacity at once, with Retry-After.
            var refused = await ReadAnswerAsync(flood[^1]);
            Assert.StartsWith("HTTP/1.1 503", refused, StringComparison.Ordinal);
            Assert.Contains("Retry-After: 1", refused, StringComparison.Ordinal);
            Assert.Contains("\"code\":\"at_capacity\"", refused, StringComparison.Ordinal);

            // A new attach is refused the same way, before any upgrade.
            var attach = await RawClient.ConnectAsync(endpoint);
            await attach.SendUpgradeAsync();
            var response = await attach.ReadResponseAsync();
            Assert.Equal(503, response.Status);
            Assert.Equal("at_capacity", response.ErrorCode());
            await attach.DisposeAsync();

            // The management listener has places of its own: health and metrics still answer, and say what happened.
            using (var health = await relay.Http.GetAsync("healthz"))
            {
                Assert.True(health.IsSuccessStatusCode, $"healthz answered {(int)health.StatusCode} at the limit");
            }

            Assert.Equal(94, await relay.MetricAsync("bctrl_relay_connections_limit"));
            Assert.Equal(94, await relay.MetricAsync("bctrl_relay_connections"));
            Assert.True(await relay.MetricAsync("bctrl_relay_connections_refused_total") > 600);

            // The live attaches carry on, and the node neither died nor spins.
            await EchoAllAsync(live, "during the flood");
            var cpuBefore = relay.CpuSeconds();
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.True(relay.CpuSeconds() - cpuBefore < 1.0, $"the relay used {relay.CpuSeconds() - cpuBefore:F2} CPU s in 2 s while flooded");
            Assert.False(relay.HasExited, relay.Output);
            Assert.True(relay.OpenDescriptors() < 700 - 100, $"the relay holds {relay.OpenDescriptors()} of its 700 descriptors at the limit");
            Assert.DoesNotContain("Out of file descriptors", relay.Output, StringComparison.Ordinal);

            // The silent connections it took are closed after the idle timeout (3 s here), which frees their places.
            var held = flood.Take(50).ToArray();
            foreach (var socket in held)
            {
                Assert.Equal(0, await ReceiveAsync(socket, TimeSpan.FromSeconds(15)));
            }
        }
        finally
        {
            foreach (var socket in flood)
            {
                socket.Dispose();
            }
        }

        // Recovered by itself: new attaches work again, and the old ones still echo.
        var fresh = await OpenEchoingAttachesAsync(endpoint, 1);
        await EchoAllAsync([.. live, .. fresh], "after the flood");
        Assert.False(relay.HasExited, relay.Output);
        foreach (var client in live.Concat(fresh))
        {
            await client.DisposeAsync();
        }
    }

    private static FakeRuntime EchoRuntime()
    {
        var runtime = FakeRuntime.Start();
        runtime.Echo = true;
        return runtime;
    }

    /// <summary>
    /// The relay with 700 descriptors and a management listener of its own, <paramref name="runtime"/> registered, on the
    /// relay's own transport whatever the run's <see cref="TestTransport"/>: what these tests hold it to (the 503 answer at
    /// the limit, the back-off) is that transport's; Kestrel's Sockets transport, the fallback, closes connections over the
    /// limit unanswered and retries its accepts at once (README's "Configuration", <c>Relay:Transport</c>).
    /// </summary>
    private static async Task<RelayChildProcess> StartRelayAsync(FakeRuntime runtime, params (string Key, string Value)[] settings)
    {
        var values = settings.ToDictionary(s => s.Key, s => s.Value);
        values[TestTransport.SettingKey] = TestTransport.Relay;
        var relay = await RelayChildProcess.StartAsync(fileLimit: 700, values, management: true);
        using var response = await relay.Http.PutAsync(
            $"v1/runtimes/{RuntimeId}", new StringContent($"{{\"cdpUrl\":\"{runtime.WebSocketUrl}\"}}", Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        return relay;
    }

    private static async Task<List<RawClient>> OpenEchoingAttachesAsync(Uri endpoint, int count)
    {
        var clients = new List<RawClient>();
        for (var i = 0; i < count; i++)
        {
            clients.Add(await RawClient.OpenAsync(endpoint));
        }

        await EchoAllAsync(clients, "at the start");
        return clients;
    }

    private static async Task EchoAllAsync(IEnumerable<RawClient> clients, string when)
    {
        var i = 0;
        foreach (var client in clients)
        {
            var text = $"{when} #{i++}";
            await client.SendFrameAsync(FakeRuntimeFrame.Text, Encoding.UTF8.GetBytes(text));
            var echo = await ReadSkippingPingsAsync(client).WaitAsync(TimeSpan.FromSeconds(15));
            Assert.Equal(text, echo.PayloadText);
        }
    }

    private static async Task<FakeRuntimeFrame> ReadSkippingPingsAsync(RawClient client)
    {
        while (true)
        {
            var frame = await client.ReadFrameAsync();
            if (frame.Opcode != FakeRuntimeFrame.Ping)
            {
                return frame;
            }
        }
    }

    /// <summary>Opens <paramref name="count"/> TCP connections that never send a byte.</summary>
    private static async Task<List<Socket>> FloodAsync(RelayChildProcess relay, int count)
    {
        var sockets = new List<Socket>(count);
        for (var i = 0; i < count; i++)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync("127.0.0.1", relay.BaseUrl.Port).WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception exception) when (exception is SocketException or TimeoutException)
            {
                // The backlog is full: the connection waits in SYN retries; it still counts as pressure.
            }

            sockets.Add(socket);
        }

        return sockets;
    }

    private static async Task<string> ReadAnswerAsync(Socket socket)
    {
        var buffer = new byte[4096];
        var text = new StringBuilder();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            if (received == 0)
            {
                return text.ToString();
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, received));
        }
    }

    private static async Task<int> ReceiveAsync(Socket socket, TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            return await socket.ReceiveAsync(new byte[64], SocketFlags.None, timeout.Token);
        }
        catch (SocketException)
        {
            return 0; // reset: closed all the same
        }
    }
}
