namespace Bctrl.Relay.Client;

/// <summary>What to ask for when creating a connection; every property has the relay's default.</summary>
public sealed class CreateConnectionRequest
{
    /// <summary>The lease's protocol; the relay knows only <c>cdp</c> (the default).</summary>
    public string Protocol { get; init; } = "cdp";

    /// <summary>How long the URL admits attaches, in whole seconds; null for the relay's
    /// <c>Relay:Connections:DefaultTtl</c>. The relay refuses less than a second or more than its maximum (400
    /// <c>invalid_ttl</c>).</summary>
    public TimeSpan? Ttl { get; init; }
}
