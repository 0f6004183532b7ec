namespace Bctrl.Relay.State;

/// <summary>A registered runtime: where its CDP endpoint is. The address never leaves the control plane.</summary>
internal sealed record RuntimeRecord(string Id, Uri CdpUrl, DateTimeOffset CreatedAt);
