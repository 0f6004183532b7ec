namespace Bctrl.Relay.Control;

/// <summary>Endpoint metadata: the JSON request body a handler reads by hand, for the OpenAPI document.</summary>
internal sealed record ApiBodyMetadata(Type Type, bool Optional);
