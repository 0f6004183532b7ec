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
    /// Default settings: the connection limit is derived from the file limit (700 descriptors: (700 − 512) / 2 = 94
    /// connections), so the flood is answered 503 at the limit and the descriptors never run out.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task Silent_connections_beyond_the_file_limit_get_503_while_live_attaches_echo_and_the_node_recovers()
    {
        await using var runtime = EchoRuntime();
        await using var relay = await StartRelayAsync(runtime, ("Relay:Limits:IdleConnectionTimeout", "00:00:03"));
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

    /// <summary>
    /// A connection limit set above what the file limit allows: the system itself refuses descriptors. The listener
    /// answers the waiting client with its spare descriptor and backs off instead of spinning; attaches whose runtime
    /// leg finds no descriptor are refused 503 (not 500); the node recovers when the flood ends.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task When_the_system_refuses_descriptors_the_node_answers_503_backs_off_and_recovers()
    {
        await using var runtime = EchoRuntime();
        await using var relay = await StartRelayAsync(
            runtime, ("Relay:Limits:MaxConnections", "5000"), ("Relay:Limits:IdleConnectionTimeout", "00:00:30"));
        var endpoint = await relay.CreateLeaseAsync(RuntimeId);
        var live = await OpenEchoingAttachesAsync(endpoint, 4);

        // A client connected before the flood, which sends its upgrade once the node has no descriptor left: the
        // runtime leg cannot be opened, and that is 503 at_capacity (it was 500 relay_fault).
        // Discovery once before: a process out of descriptors cannot load an assembly it has not loaded yet (each takes
        // a descriptor), so a first discovery request would fail on loading the HTTP client's code, not on its socket.
        using (var warm = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            Assert.Contains("webSocketDebuggerUrl", await warm.GetStringAsync(new Uri(endpoint.ToString().Replace("ws://", "http://", StringComparison.Ordinal) + "/json/version")), StringComparison.Ordinal);
        }

        await using var late = await RawClient.ConnectAsync(endpoint);
        await using var lateDiscovery = await RawClient.ConnectAsync(endpoint);
        var flood = await FloodAsync(relay, 800);
        try
        {
            // The relay accepts the flood at its own pace (slower while other tests share the cores): wait, bounded,
            // until it holds every descriptor it can.
            var full = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (relay.OpenDescriptors() < 690 && DateTime.UtcNow < full)
            {
                await Task.Delay(50);
            }

            Assert.True(relay.OpenDescriptors() >= 690, $"the relay holds {relay.OpenDescriptors()} descriptors: the flood did not reach the limit");
            await late.SendUpgradeAsync();
            var refusal = await late.ReadResponseAsync();
            Assert.Equal(503, refusal.Status);
            Assert.Equal("at_capacity", refusal.ErrorCode());
            Assert.Equal("1", refusal.Headers["Retry-After"]);

            // The same for a discovery request, whose request to the runtime finds no descriptor (it was 502).
            await lateDiscovery.SendRawAsync(Encoding.ASCII.GetBytes(
                $"GET {endpoint.AbsolutePath}/json/version HTTP/1.1\r\nHost: {endpoint.Authority}\r\nConnection: close\r\n\r\n"));
            var discovery = await lateDiscovery.ReadResponseAsync();
            Assert.True(discovery.Status == 503, discovery.Body);
            Assert.Equal("at_capacity", discovery.ErrorCode());

            // Waiting clients are answered 503 with the spare descriptor, one per back-off step (the backlog holds the rest).
            await Task.Delay(TimeSpan.FromSeconds(1));
            var answered = 0;
            foreach (var socket in flood)
            {
                if (socket.Connected && socket.Poll(0, SelectMode.SelectRead))
                {
                    var answer = await ReadAnswerAsync(socket);
                    Assert.Contains("\"code\":\"at_capacity\"", answer, StringComparison.Ordinal);
                    answered++;
                }
            }

            Assert.True(answered > 0, "no client beyond the file limit was answered");

            // It backs off: the accept loop does not spin while the system refuses descriptors.
            var cpuBefore = relay.CpuSeconds();
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.True(relay.CpuSeconds() - cpuBefore < 1.5, $"the relay used {relay.CpuSeconds() - cpuBefore:F2} CPU s in 3 s while out of descriptors");
            await EchoAllAsync(live, "while out of descriptors");
            Assert.False(relay.HasExited, relay.Output);
        }
        finally
        {
            foreach (var socket in flood)
            {
                socket.Dispose();
            }
        }

        // The flood is gone: descriptors come back, and the node serves new attaches with no restart.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (relay.OpenDescriptors() > 600 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        List<RawClient> fresh;
        try
        {
            fresh = await OpenEchoingAttachesAsync(endpoint, 2);
        }
        catch (IOException exception)
        {
            // A reset here has meant the relay died; say so with what it printed, rather than the client's view alone.
            await Task.Delay(500);
            throw relay.HasExited ? new InvalidOperationException($"The relay exited:\n{relay.Output}", exception) : exception;
        }

        await EchoAllAsync([.. live, .. fresh], "after recovery");
        Assert.False(relay.HasExited, relay.Output);
        Assert.DoesNotContain("Out of memory", relay.Output, StringComparison.Ordinal);
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
