namespace Bctrl.Relay.Client;

/// <summary>Where the relay is and how to authorise, for <c>services.AddBctrlRelayClient(o => …)</c>.</summary>
public sealed class RelayClientOptions
{
    /// <summary>The relay, like <c>http://127.0.0.1:8080</c>. Required.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>The control API key (<c>Relay:ControlApiKey</c>), sent as a bearer token. Required unless a handler
    /// of the client adds the Authorization header.</summary>
    public string? ApiKey { get; set; }
}
