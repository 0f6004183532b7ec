using Bctrl.Relay.FunctionalTests.Control;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.FunctionalTests.Transport;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Tls;

/// <summary>
/// Issue 10, TLS on the runtime leg (docs/tls.md): <c>wss://</c> and <c>https://</c> runtimes are dialled over TLS and
/// their certificate verified for their host name, against the system's trust store or <c>Relay:Tls:RuntimeCaPath</c>;
/// a certificate that does not verify is refused with a 502 <c>runtime_tls_failed</c> before any upgrade.
/// </summary>
public sealed class RuntimeTlsTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_wss_runtime_signed_by_the_configured_authority_is_spliced()
    {
        using var certificates = new TestCertificates();
        await using var harness = await StartAsync(certificates, ["localhost"], trustAuthority: true, runtime => new Uri($"wss://localhost:{runtime.Port}/devtools/browser/{FakeRuntime.BrowserId}"));
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        await TransportHarness.AssertRoundTripAsync(client, runtime, "over a TLS runtime leg");
        var large = RawClient.Frame(FakeRuntimeFrame.Binary, new byte[200_000]);
        await client.SendRawAsync(large);
        Assert.Equal(large, await runtime.Wire.ReadExactlyAsync(large.Length));
    }

    [Fact(Timeout = 30_000)]
    public async Task An_https_runtime_is_asked_for_its_browser_socket_over_tls_and_then_dialled_over_tls()
    {
        using var certificates = new TestCertificates();
        await using var harness = await StartAsync(certificates, ["localhost"], trustAuthority: true, runtime => new Uri($"https://localhost:{runtime.Port}"));
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        Assert.Equal(1, harness.Runtime.VersionRequests);
        Assert.StartsWith($"GET /devtools/browser/{FakeRuntime.BrowserId} ", runtime.RequestLine, StringComparison.Ordinal);
        await TransportHarness.AssertRoundTripAsync(client, runtime, "after discovery over TLS");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_runtime_certificate_the_system_does_not_trust_is_refused_with_502_runtime_tls_failed()
    {
        using var certificates = new TestCertificates();
        await using var harness = await StartAsync(certificates, ["localhost"], trustAuthority: false, runtime => new Uri($"wss://localhost:{runtime.Port}/devtools/browser/{FakeRuntime.BrowserId}"));
        var response = await harness.AttachRefusedAsync();
        Assert.Equal(502, response.Status);
        Assert.Contains("\"runtime_tls_failed\"", response.Body, StringComparison.Ordinal);
        Assert.Equal((0, 0), await harness.GetAttachCountsAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task A_runtime_certificate_for_another_host_name_is_refused_even_from_the_trusted_authority()
    {
        using var certificates = new TestCertificates();
        await using var harness = await StartAsync(certificates, ["runtime.example"], trustAuthority: true, runtime => new Uri($"wss://localhost:{runtime.Port}/devtools/browser/{FakeRuntime.BrowserId}"));
        var response = await harness.AttachRefusedAsync();
        Assert.Equal(502, response.Status);
        Assert.Contains("\"runtime_tls_failed\"", response.Body, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_runtime_ca_file_without_a_certificate_is_refused_at_start_naming_the_key()
    {
        using var certificates = new TestCertificates();
        var empty = Path.Combine(certificates.Directory, "empty.pem");
        await File.WriteAllTextAsync(empty, string.Empty);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:Tls:RuntimeCaPath"] = empty }));
        Assert.Contains("Relay:Tls:RuntimeCaPath", error.Message, StringComparison.Ordinal);
    }

    private static async Task<SpliceHarness> StartAsync(TestCertificates certificates, string[] names, bool trustAuthority, Func<FakeRuntime, Uri> cdpUrl)
    {
        var runtime = FakeRuntime.Start();
        runtime.Certificate = certificates.Issue("runtime", names);
        var settings = new Dictionary<string, string?>
        {
            ["Relay:KeepAlive:Interval"] = "00:10:00",
            ["Relay:KeepAlive:Timeout"] = "00:10:00",
        };
        if (trustAuthority)
        {
            settings["Relay:Tls:RuntimeCaPath"] = certificates.AuthorityPath;
        }

        return await SpliceHarness.StartAsync(settings, runtime, cdpUrl);
    }
}
