using System.Security.Cryptography.X509Certificates;
using Bctrl.Relay.Options;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Tls;

/// <summary>
/// The client leg's server certificate (docs/tls.md), picked by Kestrel for every TLS handshake. The files are looked at
/// again at most once a second, by their write times, so a renewed certificate (cert-manager, a Kubernetes secret
/// swapped under its mount) is served from the next handshake without a restart; live connections keep theirs. A file
/// that fails to load keeps the previous certificate in service and is logged.
/// </summary>
internal sealed class ServerCertificate
{
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);

    private readonly TlsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ServerCertificate> _logger;
    private readonly Lock _reload = new();
    private X509Certificate2 _current;
    private (DateTime Certificate, DateTime Key) _stamps;
    private long _checkedAt;

    public ServerCertificate(IOptions<RelayOptions> options, TimeProvider time, ILogger<ServerCertificate> logger)
    {
        _options = options.Value.Tls;
        _time = time;
        _logger = logger;
        _stamps = Stamps();
        _current = Load(_options);
        _checkedAt = time.GetTimestamp();
    }

    /// <summary>The certificate to present now.</summary>
    public X509Certificate2 Current
    {
        get
        {
            if (_time.GetElapsedTime(Volatile.Read(ref _checkedAt)) >= CheckEvery && _reload.TryEnter())
            {
                try
                {
                    ReloadIfChanged();
                }
                finally
                {
                    _reload.Exit();
                }
            }

            return Volatile.Read(ref _current);
        }
    }

    /// <summary>Loads the configured certificate with its private key.</summary>
    public static X509Certificate2 Load(TlsOptions options)
    {
        var path = options.CertificatePath!;
        if (options.KeyPath is { } keyPath)
        {
            return options.CertificatePassword is { } password
                ? X509Certificate2.CreateFromEncryptedPemFile(path, password, keyPath)
                : X509Certificate2.CreateFromPemFile(path, keyPath);
        }

        if (IsPem(path))
        {
            return options.CertificatePassword is { } password
                ? X509Certificate2.CreateFromEncryptedPemFile(path, password)
                : X509Certificate2.CreateFromPemFile(path);
        }

        return X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword);
    }

    private static bool IsPem(string path)
    {
        Span<byte> start = stackalloc byte[10];
        using var file = File.OpenRead(path);
        var read = file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        return start[..read].SequenceEqual("-----BEGIN"u8);
    }

    private void ReloadIfChanged()
    {
        Volatile.Write(ref _checkedAt, _time.GetTimestamp());
        (DateTime, DateTime) stamps;
        try
        {
            stamps = Stamps();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            TlsLog.CertificateReloadFailed(_logger, exception.GetType().Name);
            return;
        }

        if (stamps == _stamps)
        {
            return;
        }

        try
        {
            var loaded = Load(_options);
            if (!loaded.HasPrivateKey)
            {
                loaded.Dispose();
                TlsLog.CertificateReloadFailed(_logger, "no private key");
                return;
            }

            // The previous certificate is not disposed: a handshake that picked it a moment ago may still be using it.
            Volatile.Write(ref _current, loaded);
            _stamps = stamps;
            TlsLog.CertificateReloaded(_logger, loaded.Subject, loaded.NotAfter);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            // Half-written files during a renewal land here; the next check a second later tries again.
            TlsLog.CertificateReloadFailed(_logger, exception.GetType().Name);
        }
    }

    private (DateTime Certificate, DateTime Key) Stamps() => (
        File.GetLastWriteTimeUtc(_options.CertificatePath!),
        _options.KeyPath is { } key ? File.GetLastWriteTimeUtc(key) : default);
}
