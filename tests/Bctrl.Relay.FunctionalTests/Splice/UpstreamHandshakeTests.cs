using System.Net;
using System.Net.Sockets;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Splice;

/// <summary>docs/design.md §4 step 2: the relay's handshake with the runtime, and the refusals when it fails.</summary>
public sealed class UpstreamHandshakeTests
{
    [Theory(Timeout = 30_000)]
    [InlineData(FakeRuntimeBehavior.Answer200, "bad_upstream_handshake")]
    [InlineData(FakeRuntimeBehavior.Answer101WithoutAccept, "bad_upstream_handshake")]
    [InlineData(FakeRuntimeBehavior.Answer101WrongAccept, "bad_upstream_handshake")]
    [InlineData(FakeRuntimeBehavior.Reset, "bad_upstream_handshake|runtime_unreachable")]
    [InlineData(FakeRuntimeBehavior.Hang, "bad_upstream_handshake")]
    public async Task A_broken_upstream_handshake_is_a_502_before_any_upgrade(FakeRuntimeBehavior behavior, string codes)
    {
        await using var harness = await SpliceHarness.StartAsync(
            new Dictionary<string, string?> { ["Relay:Limits:HandshakeTimeout"] = "00:00:01" },
            FakeRuntime.Start(behavior));

        var response = await harness.AttachRefusedAsync();

        Assert.Equal(502, response.Status);
        Assert.StartsWith("application/json", response.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.Contains(response.ErrorCode(), codes.Split('|'));
        Assert.DoesNotContain(harness.Token, response.Body, StringComparison.Ordinal);
        Assert.False(response.Headers.ContainsKey("Sec-WebSocket-Accept"));

        // The runtime really was asked, once.
        var request = await harness.Runtime.NextConnectionAsync();
        Assert.Equal("GET", request.Method);
        Assert.Equal(1, harness.Runtime.AcceptedConnections);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_runtime_on_a_closed_port_is_a_502_runtime_unreachable()
    {
        var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)closed.LocalEndPoint!).Port;
        closed.Dispose();

        await using var harness = await SpliceHarness.StartAsync(cdpUrl: _ => new Uri($"ws://127.0.0.1:{port}/devtools/browser/{FakeRuntime.BrowserId}"));

        var response = await harness.AttachRefusedAsync();

        Assert.Equal(502, response.Status);
        Assert.Equal("runtime_unreachable", response.ErrorCode());
    }

    [Fact(Timeout = 30_000)]
    public async Task The_upstream_request_names_the_runtime_and_carries_nothing_of_the_client()
    {
        await using var harness = await SpliceHarness.StartAsync();

        var (client, runtime) = await harness.AttachAsync(
            "Origin: https://customer.example\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            + "Cookie: session=abc\r\nAuthorization: Bearer customer-secret\r\nUser-Agent: raw-test-client\r\n");
        await using var _ = client;

        Assert.Equal($"GET /devtools/browser/{FakeRuntime.BrowserId} HTTP/1.1", runtime.RequestLine);
        Assert.Equal($"127.0.0.1:{harness.Runtime.Port}", runtime.Header("Host"));
        Assert.Null(runtime.Header("Origin"));
        Assert.Null(runtime.Header("Sec-WebSocket-Extensions"));
        Assert.Null(runtime.Header("Cookie"));
        Assert.Null(runtime.Header("Authorization"));
        Assert.Equal("13", runtime.Header("Sec-WebSocket-Version"));
        Assert.Equal(24, runtime.Header("Sec-WebSocket-Key")?.Length);
        Assert.DoesNotContain(harness.Token, runtime.RequestHead, StringComparison.Ordinal);
        Assert.DoesNotContain(harness.Token[..16], runtime.RequestHead, StringComparison.Ordinal);
        Assert.DoesNotContain("/cdp/", runtime.RequestHead, StringComparison.Ordinal);
        Assert.DoesNotContain("customer", runtime.RequestHead, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_client_101_offers_no_extension_even_when_the_client_asked_for_one()
    {
        await using var harness = await SpliceHarness.StartAsync();
        await using var client = await RawClient.ConnectAsync(harness.Endpoint);
        await client.SendUpgradeAsync("Sec-WebSocket-Extensions: permessage-deflate\r\n");

        var response = await client.ReadResponseAsync();

        Assert.Equal(101, response.Status);
        Assert.False(response.Headers.ContainsKey("Sec-WebSocket-Extensions"));
    }

    [Fact(Timeout = 30_000)]
    public async Task An_http_cdp_url_is_resolved_through_json_version_and_dialed_at_the_registered_address()
    {
        await using var harness = await SpliceHarness.StartAsync(cdpUrl: runtime => runtime.HttpUrl);

        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        Assert.Equal(1, harness.Runtime.VersionRequests);
        Assert.Equal($"GET /devtools/browser/{FakeRuntime.BrowserId} HTTP/1.1", runtime.RequestLine);
        Assert.Equal($"127.0.0.1:{harness.Runtime.Port}", runtime.Header("Host"));
    }

    [Fact(Timeout = 30_000)]
    public async Task The_browser_socket_path_is_kept_between_attaches_and_asked_again_when_the_browser_restarted()
    {
        await using var harness = await SpliceHarness.StartAsync(cdpUrl: runtime => runtime.HttpUrl);

        var (first, _) = await harness.AttachAsync();
        await using (first)
        {
            var (second, secondRuntime) = await harness.AttachAsync();
            await using var _ = second;
            Assert.Equal(1, harness.Runtime.VersionRequests);
            Assert.Equal($"GET /devtools/browser/{FakeRuntime.BrowserId} HTTP/1.1", secondRuntime.RequestLine);
        }

        // The kept path is now a dead socket path: the relay must not refuse the attach but ask /json/version again.
        const string NewId = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
        harness.Runtime.Restart(NewId);
        var (third, thirdRuntime) = await harness.AttachAsync();
        await using var __ = third;

        Assert.Equal(2, harness.Runtime.VersionRequests);
        Assert.Equal($"GET /devtools/browser/{NewId} HTTP/1.1", thirdRuntime.RequestLine);
    }

    [Ipv6LoopbackFact(Timeout = 30_000)]
    public async Task A_runtime_on_ipv6_loopback_is_dialed()
    {
        await using var harness = await SpliceHarness.StartAsync(runtime: FakeRuntime.Start(address: IPAddress.IPv6Loopback));

        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;

        Assert.Equal($"[::1]:{harness.Runtime.Port}", runtime.Header("Host"));
        await client.SendFrameAsync(FakeRuntimeFrame.Text, "over v6"u8.ToArray());
        Assert.Equal("over v6", (await runtime.ReadFrameAsync()).PayloadText);
    }
}
