using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Bctrl.Relay.Testing;

/// <summary>
/// A certificate authority made for one test, and server certificates it signs, written as PEM files in a directory of
/// their own that disposing deletes. Nothing is added to the machine's trust store: a test trusts the authority
/// explicitly (a validation callback, <c>Relay:Tls:RuntimeCaPath</c>, <c>NODE_EXTRA_CA_CERTS</c>).
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly ECDsa _authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public TestCertificates()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("bctrl-relay-tls-").FullName;
        var request = new CertificateRequest("CN=Bctrl Relay Test CA", _authorityKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddDays(2));
        AuthorityPath = Path.Combine(Directory, "ca.pem");
        File.WriteAllText(AuthorityPath, Authority.ExportCertificatePem());
    }

    public string Directory { get; }

    public X509Certificate2 Authority { get; }

    /// <summary>The authority's certificate as a PEM file.</summary>
    public string AuthorityPath { get; }

    /// <summary>
    /// A server certificate for <paramref name="names"/> (DNS names or IP addresses), signed by the authority, with its
    /// key; also written as <c>{file}.pem</c> and <c>{file}.key</c> when <paramref name="file"/> is given.
    /// </summary>
    public X509Certificate2 Issue(string subject, string[] names, string? file = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        var alternative = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var address))
            {
                alternative.AddIpAddress(address);
            }
            else
            {
                alternative.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(alternative.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = RandomNumberGenerator.GetBytes(12);
        using var signed = request.Create(Authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);
        var certificate = signed.CopyWithPrivateKey(key);
        if (file is not null)
        {
            File.WriteAllText(CertificatePath(file), certificate.ExportCertificatePem());
            File.WriteAllText(KeyPath(file), key.ExportPkcs8PrivateKeyPem());
        }

        return certificate;
    }

    public string CertificatePath(string file) => Path.Combine(Directory, file + ".pem");

    public string KeyPath(string file) => Path.Combine(Directory, file + ".key");

    /// <summary>Whether <paramref name="certificate"/> chains to this authority alone (a client's validation callback).</summary>
    public bool Trusts(X509Certificate? certificate)
    {
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    public void Dispose()
    {
        _authorityKey.Dispose();
        Authority.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A process still holding a file (a browser) keeps the directory until the machine's temp cleanup.
        }
    }
}
