namespace Bctrl.Relay.Client;

/// <summary>Where a CDP client attaches: the URL for Playwright's <c>connectOverCDP</c> or Puppeteer's <c>connect</c>.</summary>
/// <param name="Url">Like <c>ws://relay:8080/cdp/&lt;token&gt;</c>.</param>
public sealed record ConnectionEndpoint(Uri Url);
