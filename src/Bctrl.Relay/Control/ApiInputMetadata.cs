namespace Bctrl.Relay.Control;

/// <summary>Endpoint metadata: a query parameter or header the handler reads by hand, for the OpenAPI document.</summary>
internal sealed record ApiInputMetadata(string Name, ApiInputKind Kind, string Description, bool InHeader = false);
