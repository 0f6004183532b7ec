using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary>
/// RFC 6455 §4.2.1 checks of the client's opening handshake, under a valid lease: each refusal is a JSON answer and
/// none of them opens a connection to the runtime.
/// </summary>
public sealed class ClientHandshakeTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_plain_GET_without_upgrade_is_426_with_the_error_shape()
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, token) = await rig.CreateAsync();

        using var plain = await RawHttp.SendAsync(rig.Relay.BaseUrl, "GET", $"/cdp/{token}", []);
        ApiAssert.Error(plain, 426, "websocket_required");
        Assert.Contains("websocket", plain.Header("Upgrade") ?? string.Empty, StringComparison.OrdinalIgnoreCase);

        // Upgrade named but Connection not saying so, or the other way round, is not an upgrade either.
        using var noConnection = await RawHttp.SendAsync(rig.Relay.BaseUrl, "GET", $"/cdp/{token}",
            [("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", RawHttp.NewKey())]);
        ApiAssert.Error(noConnection, 426, "websocket_required");
        using var noUpgrade = await RawHttp.SendAsync(rig.Relay.BaseUrl, "GET", $"/cdp/{token}",
            [("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", RawHttp.NewKey())]);
        ApiAssert.Error(noUpgrade, 426, "websocket_required");
        using var otherProtocol = await RawHttp.SendAsync(rig.Relay.BaseUrl, "GET", $"/cdp/{token}",
            [("Connection", "Upgrade"), ("Upgrade", "h2c"), ("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", RawHttp.NewKey())]);
        ApiAssert.Error(otherProtocol, 426, "websocket_required");

        await rig.AssertNoUpstreamAsync();
    }

    [Theory(Timeout = 30_000)]
    [InlineData("8")]
    [InlineData("12")]
    [InlineData("14")]
    [InlineData("")]
    public async Task Another_WebSocket_version_is_426_naming_version_13(string version)
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, token) = await rig.CreateAsync();
        var headers = RawHttp.UpgradeHeaders().Where(h => h.Name != "Sec-WebSocket-Version").ToList();
        if (version.Length > 0)
        {
            headers.Add(("Sec-WebSocket-Version", version));
        }

        using var response = await RawHttp.SendAsync(rig.Relay.BaseUrl, "GET", $"/cdp/{token}", headers);
        ApiAssert.Error(response, 426, "unsupported_websocket_version");
        Assert.Equal("13", response.Header("Sec-WebSocket-Version"));
        await rig.AssertNoUpstreamAsync();
    }

    [Theory(Timeout = 30_000)]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64 at all!!!!!!!")]
    [InlineData("AAAAAAAAAAAAAAAAAAAA")] // 15 bytes
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAA")] // 18 bytes, 24 characters
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAA=")] // 17 bytes
    [InlineData("dGhlIHNhbXBsZSBub25jZQ==dGhlIHNhbXBsZSBub25jZQ==")]
    public async Task A_missing_or_bad_Sec_WebSocket_Key_is_400(string? key)
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, token) = await rig.CreateAsync();
        var headers = RawHttp.UpgradeHeaders().Where(h => h.Name != "Sec-WebSocket-Key").ToList();
        if (key is not null)
        {
            headers.Add(("Sec-WebSocket-Key", key));
        }

        using var response = await RawHttp.SendAsync(rig.Relay.BaseUrl, "GET", $"/cdp/{token}", headers);
        ApiAssert.Error(response, 400, "invalid_websocket_key");
        await rig.AssertNoUpstreamAsync();
    }

    [Fact(Timeout = 30_000)]
    public async Task The_RFC_6455_sample_key_is_accepted_and_answered_with_its_accept_value()
    {
        // RFC 6455 §1.3: key "dGhlIHNhbXBsZSBub25jZQ==" gives accept "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
        await using var rig = await AttachRig.StartAsync();
        var (_, token) = await rig.CreateAsync();
        using var response = await RawHttp.UpgradeAsync(rig.Relay.BaseUrl, $"/cdp/{token}", "dGhlIHNhbXBsZSBub25jZQ==");
        Assert.Equal(101, response.Status);
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", response.Header("Sec-WebSocket-Accept"));
        Assert.Equal(1, rig.Runtime.Accepted);
    }

    [Fact(Timeout = 30_000)]
    public async Task An_HTTP_1_0_upgrade_request_is_400_and_never_101()
    {
        // RFC 6455 §4.1: "The method of the request MUST be GET, and the HTTP version MUST be at least 1.1."
        await using var rig = await AttachRig.StartAsync();
        var (_, token) = await rig.CreateAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(rig.Relay.BaseUrl.Host, rig.Relay.BaseUrl.Port, timeout.Token);

        await socket.SendAsync(Encoding.ASCII.GetBytes(
            $"GET /cdp/{token} HTTP/1.0\r\nHost: {rig.Relay.BaseUrl.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + $"Sec-WebSocket-Key: {RawHttp.NewKey()}\r\nSec-WebSocket-Version: 13\r\n\r\n"), SocketFlags.None, timeout.Token);

        // An HTTP/1.0 answer may end its body by closing the connection: read it all.
        using var received = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            received.Write(buffer, 0, read);
        }

        var response = Encoding.UTF8.GetString(received.ToArray());
        var head = response[..response.IndexOf("\r\n\r\n", StringComparison.Ordinal)];
        Assert.True(head.Split(' ')[1] == "400", $"expected 400, got {response}");
        using var json = JsonDocument.Parse(response[(head.Length + 4)..]);
        Assert.Equal("websocket_requires_http11", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        await rig.AssertNoUpstreamAsync();
    }
}
