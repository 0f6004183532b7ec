namespace Bctrl.Relay.Client;

/// <summary>A browser registered with the relay under an id (README, "HTTP surface").</summary>
/// <param name="Id">The runtime id: 1 to 64 ASCII letters, digits, '.', '_' or '-'.</param>
/// <param name="CdpUrl">The browser's CDP socket (<c>ws://</c>) or debugging base (<c>http://</c>).</param>
/// <param name="CreatedAt">When the runtime was first registered.</param>
public sealed record Runtime(string Id, Uri CdpUrl, DateTimeOffset CreatedAt);
