namespace Bctrl.Relay.Control;

/// <summary>The schema of a hand-read input in the OpenAPI document.</summary>
internal enum ApiInputKind
{
    Text,
    Boolean,
    Limit,
}
