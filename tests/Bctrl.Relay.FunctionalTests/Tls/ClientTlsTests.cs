using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Tls;

/// <summary>
/// Issue 10, TLS on the client leg (docs/tls.md): a relay on an <c>https://</c> listener hands out <c>wss://</c> URLs,
/// splices over TLS unchanged, serves a renewed certificate from the next handshake, keeps the old one when the new
/// files do not load, and refuses to start with an <c>https://</c> URL and no certificate.
/// </summary>
public sealed class ClientTlsTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_relay_on_https_hands_out_wss_urls_and_splices_messages_both_ways_over_tls()
    {
        using var certificates = new TestCertificates();
        certificates.Issue("relay", ["127.0.0.1", "localhost"], "relay");
        await using var runtime = FakeRuntime.Start();
        runtime.Echo = true;
        await using var relay = await RelayServer.StartAsync(HttpsSettings(certificates), certificates);
        await relay.PutRuntimeAsync("fake", runtime.WebSocketUrl);
        var (_, url) = await relay.CreateConnectionAsync("fake");
        Assert.Equal("wss", url.Scheme);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var client = new ClientWebSocket();
        client.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificates.Trusts(certificate);
        await client.ConnectAsync(url, timeout.Token);

        // A small command, then one larger than a TLS record (16 KiB) and than any single read.
        foreach (var size in (int[])[40, 300_000])
        {
            var message = new byte[size];
            new Random(size).NextBytes(message);
            await client.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, timeout.Token);
            var echoed = await ReceiveMessageAsync(client, timeout.Token);
            Assert.Equal(message, echoed);
        }

        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_renewed_certificate_is_served_from_the_next_handshake_and_a_broken_one_keeps_the_old_in_service()
    {
        using var certificates = new TestCertificates();
        using var first = certificates.Issue("first", ["127.0.0.1"], "relay");
        await using var relay = await RelayServer.StartAsync(HttpsSettings(certificates), certificates);
        Assert.Equal(first.Thumbprint, await PresentedThumbprintAsync(relay.BaseUrl, certificates));

        // A half-written renewal: the files no longer load. The relay keeps serving the certificate it has.
        await File.WriteAllTextAsync(certificates.CertificatePath("relay"), "-----BEGIN CERTIFICATE-----\ntruncated");
        File.SetLastWriteTimeUtc(certificates.CertificatePath("relay"), DateTime.UtcNow.AddSeconds(10));
        await Task.Delay(1_100);
        Assert.Equal(first.Thumbprint, await PresentedThumbprintAsync(relay.BaseUrl, certificates));
        Assert.Contains(relay.Logs.Lines, line => line.Contains("could not be loaded", StringComparison.Ordinal));

        using var second = certificates.Issue("second", ["127.0.0.1"], "relay");
        File.SetLastWriteTimeUtc(certificates.CertificatePath("relay"), DateTime.UtcNow.AddSeconds(20));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        string presented;
        do
        {
            await Task.Delay(200);
            presented = await PresentedThumbprintAsync(relay.BaseUrl, certificates);
        }
        while (presented != second.Thumbprint && DateTime.UtcNow < deadline);

        Assert.Equal(second.Thumbprint, presented);
        Assert.DoesNotContain(relay.Logs.Lines, line => line.Contains("BEGIN", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30_000)]
    public async Task An_https_listen_url_without_a_certificate_is_refused_at_start_naming_the_key()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RelayServer.StartAsync(new Dictionary<string, string?> { ["urls"] = "https://127.0.0.1:0" }));
        Assert.Contains("Relay:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_certificate_that_does_not_load_is_refused_at_start_without_its_password()
    {
        using var certificates = new TestCertificates();
        await File.WriteAllTextAsync(certificates.CertificatePath("broken"), "not a certificate");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["urls"] = "https://127.0.0.1:0",
            ["Relay:Tls:CertificatePath"] = certificates.CertificatePath("broken"),
            ["Relay:Tls:CertificatePassword"] = "hunter2-password",
        }));
        Assert.Contains("Relay:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.ToString(), StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> HttpsSettings(TestCertificates certificates) => new()
    {
        ["urls"] = "https://127.0.0.1:0",
        ["Relay:Tls:CertificatePath"] = certificates.CertificatePath("relay"),
        ["Relay:Tls:KeyPath"] = certificates.KeyPath("relay"),
    };

    private static async Task<byte[]> ReceiveMessageAsync(ClientWebSocket client, CancellationToken cancellationToken)
    {
        using var message = new MemoryStream();
        var buffer = new byte[64 * 1024];
        WebSocketReceiveResult result;
        do
        {
            result = await client.ReceiveAsync(buffer, cancellationToken);
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return message.ToArray();
    }

    /// <summary>Makes a TLS handshake with the relay and returns the thumbprint of the certificate it presented.</summary>
    private static async Task<string> PresentedThumbprintAsync(Uri baseUrl, TestCertificates certificates)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(baseUrl.Host, baseUrl.Port);
        X509Certificate2? presented = null;
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, _) =>
        {
            presented = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return certificates.Trusts(certificate);
        });
        await tls.AuthenticateAsClientAsync("127.0.0.1");
        using (presented)
        {
            return presented!.Thumbprint;
        }
    }
}
