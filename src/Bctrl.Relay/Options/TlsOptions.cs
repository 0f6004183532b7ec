using System.Security.Cryptography;
using Bctrl.Relay.Tls;

namespace Bctrl.Relay.Options;

/// <summary>
/// The <c>Relay:Tls</c> section (docs/tls.md): the certificate of the client leg's <c>https://</c> listeners, and the
/// certificate authorities the runtime leg trusts for <c>wss://</c> and <c>https://</c> runtimes.
/// </summary>
internal sealed class TlsOptions
{
    /// <summary>
    /// The server certificate for <c>https://</c> listen URLs: a PEM certificate (its key in <see cref="KeyPath"/> or in
    /// the same file) or a PKCS#12 (<c>.pfx</c>) file. Reloaded when the file changes. Default: unset, and an
    /// <c>https://</c> listen URL is refused at start.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="CertificatePath"/>. Default: unset (the key is in the certificate's file).</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a PKCS#12 file or of an encrypted PEM key. A secret: never logged. Default: unset.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// A PEM file of the certificate authorities a runtime's certificate must chain to, in place of the system's trust
    /// store. Default: unset, the system's trust store.
    /// </summary>
    public string? RuntimeCaPath { get; set; }

    public void Validate()
    {
        if (KeyPath is not null && CertificatePath is null)
        {
            throw new InvalidOperationException("Relay:Tls:KeyPath needs Relay:Tls:CertificatePath.");
        }

        if (CertificatePath is not null)
        {
            try
            {
                using var certificate = ServerCertificate.Load(this);
                if (!certificate.HasPrivateKey)
                {
                    throw new InvalidOperationException("Relay:Tls:CertificatePath holds no private key (set Relay:Tls:KeyPath).");
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                // The message names the file problem, never the password.
                throw new InvalidOperationException($"Relay:Tls:CertificatePath (with KeyPath) could not be loaded: {exception.GetType().Name}.", exception);
            }
        }

        if (RuntimeCaPath is not null)
        {
            try
            {
                if (RuntimeTrust.LoadAuthorities(RuntimeCaPath).Count == 0)
                {
                    throw new InvalidOperationException("Relay:Tls:RuntimeCaPath holds no PEM certificate.");
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or CryptographicException)
            {
                throw new InvalidOperationException($"Relay:Tls:RuntimeCaPath could not be loaded: {exception.GetType().Name}.", exception);
            }
        }
    }
}
