namespace Bctrl.Relay.Control;

/// <summary>
/// Endpoint metadata: the catalogue entries an endpoint (or a whole group) may answer with. The OpenAPI document lists
/// them per status (docs/api.md); an endpoint can carry several of these, from its group and its own.
/// </summary>
internal sealed class ApiErrorsMetadata(IReadOnlyList<ApiError> errors)
{
    public IReadOnlyList<ApiError> Errors { get; } = errors;
}
