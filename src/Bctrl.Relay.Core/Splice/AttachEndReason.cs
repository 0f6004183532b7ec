namespace Bctrl.Relay.Splice;

/// <summary>Why an attach ended. The first reason recorded wins; the README's close-code table lists each.</summary>
internal enum AttachEndReason : byte
{
    None,

    /// <summary>The client sent a close frame; the close handshake passed through.</summary>
    ClientClosed,

    /// <summary>The runtime sent a close frame; the close handshake passed through.</summary>
    RuntimeClosed,

    /// <summary>The client's connection ended without a close frame.</summary>
    ClientGone,

    /// <summary>The runtime's connection ended without a close frame: it failed or vanished.</summary>
    RuntimeGone,

    ClientProtocolError,
    RuntimeProtocolError,
    ClientMessageTooBig,
    RuntimeMessageTooBig,

    /// <summary>The lease was deleted with <c>terminate=true</c>.</summary>
    LeaseTerminated,

    /// <summary>The client answered no keep-alive ping in time.</summary>
    KeepAliveTimeout,

    /// <summary>The client read nothing for the stall timeout while the runtime had data for it.</summary>
    ClientStalled,

    /// <summary>The runtime read nothing for the stall timeout while the client had data for it.</summary>
    RuntimeStalled,

    /// <summary>The relay is shutting down.</summary>
    Draining,

    /// <summary>A fault inside the relay.</summary>
    RelayFault,

    /// <summary>
    /// A client message broke the lease's policy where it could not be answered: a binary message, a command refused
    /// after its allowed method had begun to pass, or refused commands piling up (docs/policy.md).
    /// </summary>
    PolicyViolation,

    /// <summary>The attach lasted its lease's <c>maxAttachSeconds</c> (docs/quotas.md).</summary>
    AttachTimeLimit,

    /// <summary>The attach moved its lease's <c>maxBytes</c>, both ways together (docs/quotas.md).</summary>
    ByteQuotaExceeded,
}
