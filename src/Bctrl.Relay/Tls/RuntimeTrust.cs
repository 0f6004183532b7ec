using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Bctrl.Relay.Options;

namespace Bctrl.Relay.Tls;

/// <summary>
/// What the runtime leg trusts (docs/tls.md): a <c>wss://</c> or <c>https://</c> runtime's certificate must verify
/// for the runtime's host name against the system's trust store, or only against <c>Relay:Tls:RuntimeCaPath</c> when
/// that is set. There is no switch to skip verification: a lease's traffic to its browser is as private as the
/// client's to the relay.
/// </summary>
internal sealed class RuntimeTrust
{
    private readonly X509ChainPolicy? _policy;

    public RuntimeTrust(TlsOptions options)
    {
        if (options.RuntimeCaPath is { } path)
        {
            _policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                // A private CA for a fleet rarely runs a revocation endpoint the relay could reach.
                RevocationMode = X509RevocationMode.NoCheck,
            };
            _policy.CustomTrustStore.AddRange(LoadAuthorities(path));
        }
    }

    /// <summary>Whether a runtime URL's scheme asks for TLS.</summary>
    public static bool IsTls(Uri url) => url.Scheme is "wss" or "https";

    public static X509Certificate2Collection LoadAuthorities(string path)
    {
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(path);
        return authorities;
    }

    /// <summary>The options of one TLS handshake with the runtime at <paramref name="host"/>.</summary>
    public SslClientAuthenticationOptions ForHost(string host) => new()
    {
        TargetHost = host,
        CertificateChainPolicy = _policy?.Clone(),
        EnabledSslProtocols = System.Security.Authentication.SslProtocols.None, // the system's choice: TLS 1.2 and 1.3
    };

    /// <summary>Makes the discovery client trust the same authorities.</summary>
    public void Configure(SocketsHttpHandler handler)
    {
        if (_policy is not null)
        {
            handler.SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = _policy.Clone() };
        }
    }
}
