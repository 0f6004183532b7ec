using System.Net.Sockets;
using System.Text;
using Bctrl.Relay.FunctionalTests.Splice;

namespace Bctrl.Relay.FunctionalTests.Hostile;

/// <summary>
/// Issue 8, finding 1: an upgrade request that dawdles (slowloris) must not hold a connection, and its descriptor, for
/// longer than <c>Relay:Limits:RequestHeadersTimeout</c>; one that sends nothing no longer than
/// <c>Relay:Limits:IdleConnectionTimeout</c> (Kestrel's own defaults are 30 s and 130 s).
/// </summary>
public sealed class DawdlingRequestTests
{
    [Fact(Timeout = 30_000)]
    public async Task An_upgrade_request_whose_headers_trickle_is_cut_at_the_request_headers_timeout()
    {
        await using var harness = await SpliceHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:Limits:RequestHeadersTimeout"] = "00:00:02",
            ["Relay:Limits:IdleConnectionTimeout"] = "00:00:20",
        });
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(harness.Endpoint.Host, harness.Endpoint.Port);
        var started = DateTime.UtcNow;
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {harness.Endpoint.AbsolutePath} HTTP/1.1\r\n"));

        // One header byte every 300 ms, for up to 20 s: the relay must end it long before.
        var closed = false;
        foreach (var b in Encoding.ASCII.GetBytes("Upgrade: websocket\r\nConnection: Upgrade\r\nX-Slow: " + new string('a', 60)))
        {
            try
            {
                await socket.SendAsync(new[] { b });
            }
            catch (SocketException)
            {
                closed = true;
                break;
            }

            if (socket.Poll(0, SelectMode.SelectRead))
            {
                closed = true;
                break;
            }

            await Task.Delay(300);
        }

        var elapsed = DateTime.UtcNow - started;
        Assert.True(closed, "the relay kept a trickling request open for 20 s");
        Assert.InRange(elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_connection_that_sends_nothing_is_closed_at_the_idle_timeout()
    {
        await using var harness = await SpliceHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:Limits:IdleConnectionTimeout"] = "00:00:02",
        });
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(harness.Endpoint.Host, harness.Endpoint.Port);
        var started = DateTime.UtcNow;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        int received;
        try
        {
            received = await socket.ReceiveAsync(new byte[256], SocketFlags.None, timeout.Token);
        }
        catch (SocketException)
        {
            received = 0; // reset: closed all the same
        }

        Assert.Equal(0, received);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));
    }
}
