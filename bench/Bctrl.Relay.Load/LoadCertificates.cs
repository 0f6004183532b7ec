using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Bctrl.Relay.Load;

/// <summary>
/// The TLS targets' certificate (bench/README.md, "TLS targets"): a throwaway authority made when the run starts and
/// one server certificate it signs for 127.0.0.1, both ECDSA P-256, written as PEM files into a temporary directory of
/// the run that disposing deletes. relay-tls and nginx-tls serve the same pair, so the handshake and the record layer
/// cost both the same; the tool's clients trust this authority alone (<see cref="Validate"/>), never anything else.
/// </summary>
internal sealed class LoadCertificates : IDisposable
{
    public const string KeyKind = "ECDSA P-256";

    private LoadCertificates(string directory, X509Certificate2 authority)
    {
        Directory = directory;
        Authority = authority;
    }

    /// <summary>The run's temporary directory: <c>ca.pem</c>, <c>server.pem</c>, <c>server.key</c>.</summary>
    public string Directory { get; }

    /// <summary>The authority's certificate (no key: it signed the server certificate and was dropped).</summary>
    public X509Certificate2 Authority { get; }

    public string CertificatePath => Path.Combine(Directory, "server.pem");

    public string KeyPath => Path.Combine(Directory, "server.key");

    public string AuthorityPath => Path.Combine(Directory, "ca.pem");

    public static LoadCertificates Create()
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("bctrl-load-tls-").FullName;
        var now = DateTimeOffset.UtcNow;
        using var authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var authorityRequest = new CertificateRequest("CN=Bctrl.Relay.Load throwaway CA", authorityKey, HashAlgorithmName.SHA256);
        authorityRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        authorityRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        authorityRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(authorityRequest.PublicKey, false));
        using var authority = authorityRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(2));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        using var server = serverRequest.Create(authority, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(16));

        var certificates = new LoadCertificates(directory, X509CertificateLoader.LoadCertificate(authority.RawData));
        File.WriteAllText(certificates.AuthorityPath, authority.ExportCertificatePem());
        File.WriteAllText(certificates.CertificatePath, server.ExportCertificatePem());

        // The key is readable by its owner alone, as a key file should be (the relay and nginx run as this user).
        var keyFile = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            keyFile.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var key = new StreamWriter(certificates.KeyPath, keyFile))
        {
            key.Write(serverKey.ExportPkcs8PrivateKeyPem());
        }

        return certificates;
    }

    /// <summary>
    /// A client's validation callback: the certificate must be there, match the host dialled (127.0.0.1), and chain to
    /// <see cref="Authority"/> alone (<see cref="X509ChainTrustMode.CustomRootTrust"/>; the machine's store plays no part).
    /// </summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        using var ours = new X509Chain();
        ours.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        ours.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        ours.ChainPolicy.CustomTrustStore.Add(Authority);
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return ours.Build(leaf);
    }

    /// <summary>
    /// One handshake with the listener on 127.0.0.1:<paramref name="port"/>, as the tool's clients make it; returns what
    /// was negotiated (<c>Tls13 TLS_AES_256_GCM_SHA384</c>), so a report shows that both TLS targets ran the same cipher.
    /// </summary>
    public async Task<string> ProbeAsync(int port, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            using var client = new TcpClient(AddressFamily.InterNetwork);
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token).ConfigureAwait(false);
            await using var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false, Validate);
            await tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions { TargetHost = IPAddress.Loopback.ToString(), ApplicationProtocols = [SslApplicationProtocol.Http11] },
                timeout.Token).ConfigureAwait(false);
            return string.Create(CultureInfo.InvariantCulture, $"{tls.SslProtocol} {tls.NegotiatedCipherSuite}");
        }
        catch (Exception exception) when (exception is AuthenticationException or SocketException or IOException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new InvalidOperationException($"The TLS handshake with 127.0.0.1:{port} failed: {exception.Message}", exception);
        }
    }

    public void Dispose()
    {
        Authority.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Left in /tmp.
        }
    }
}
