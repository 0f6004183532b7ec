namespace Bctrl.Relay.Tls;

/// <summary>The TLS component's log lines: file problems by type, never a path's content or a password.</summary>
internal static partial class TlsLog
{
    [LoggerMessage(200, LogLevel.Information, "Server certificate reloaded: {Subject}, valid until {NotAfter:u}.", EventName = "CertificateReloaded")]
    public static partial void CertificateReloaded(ILogger logger, string subject, DateTime notAfter);

    [LoggerMessage(201, LogLevel.Warning, "The changed server certificate could not be loaded ({Problem}); the previous one stays in service.", EventName = "CertificateReloadFailed")]
    public static partial void CertificateReloadFailed(ILogger logger, string problem);
}
