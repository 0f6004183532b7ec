using System.Text.Json.Serialization;

namespace Bctrl.Relay.Control;

internal sealed record ErrorBody(ErrorDetail Error);

internal sealed record ErrorDetail(string Code, string Message);

internal sealed record PutRuntimeRequest(string? CdpUrl);

internal sealed record RuntimeResponse(string Id, string CdpUrl, DateTimeOffset CreatedAt);

/// <summary>All optional (defaults in the README): the defaults tell the OpenAPI document they are not required.</summary>
internal sealed record CreateConnectionRequest(
    string? Protocol = null, long? TtlSeconds = null, ScopeModel? Scope = null, bool? Interactive = null, PolicyModel? Policy = null,
    QuotasModel? Quotas = null, RecordModel? Record = null);

/// <summary>What a lease records beyond events (docs/artifacts.md): <c>artifacts</c> keeps its screenshots, PDFs, screencast frames and downloads.</summary>
internal sealed record RecordModel(bool? Artifacts = null);

/// <summary>A lease's quotas (docs/quotas.md); each optional, absent for no limit.</summary>
internal sealed record QuotasModel(int? CommandsPerSecond = null, int? MaxAttaches = null, int? MaxAttachSeconds = null, long? MaxBytes = null);

/// <summary>
/// A CDP method policy (docs/policy.md): a preset (<c>readOnly</c>, <c>noBrowserControl</c>), allow and deny patterns
/// (<c>Page.navigate</c>, <c>Storage.*</c>, <c>*</c>), or a preset with extra deny patterns. Absent: every method passes.
/// </summary>
internal sealed record PolicyModel(string? Preset = null, IReadOnlyList<string>? Allow = null, IReadOnlyList<string>? Deny = null);

/// <summary>A lease limited to one target (docs/scope.md); absent for a lease of the whole browser.</summary>
internal sealed record ScopeModel(string? Target = null);

internal sealed record EndpointResponse(string Url);

internal sealed record CreatedConnectionResponse(
    Guid Id, string RuntimeId, string Protocol, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, EndpointResponse Endpoint, ScopeModel? Scope = null, bool? Interactive = null, PolicyModel? Policy = null, QuotasModel? Quotas = null, RecordModel? Record = null);

internal sealed record AttachCountsResponse(long Live, long Total);

internal sealed record ConnectionResponse(
    Guid Id, string RuntimeId, string Protocol, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, string State, AttachCountsResponse Attaches, ScopeModel? Scope = null, bool? Interactive = null, PolicyModel? Policy = null, QuotasModel? Quotas = null, RecordModel? Record = null);

/// <summary>A page of a list (docs/api.md, "Pagination"): <c>nextCursor</c> is absent on the last page.</summary>
internal sealed record ListResponse<T>(IReadOnlyList<T> Data, string? NextCursor = null);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(PutRuntimeRequest))]
[JsonSerializable(typeof(RuntimeResponse))]
[JsonSerializable(typeof(ListResponse<RuntimeResponse>))]
[JsonSerializable(typeof(CreateConnectionRequest))]
[JsonSerializable(typeof(CreatedConnectionResponse))]
[JsonSerializable(typeof(ConnectionResponse))]
[JsonSerializable(typeof(ListResponse<ConnectionResponse>))]
[JsonSerializable(typeof(ListResponse<Bctrl.Relay.Observation.AttachRecord>))]
[JsonSerializable(typeof(ListResponse<Bctrl.Relay.Artifacts.ArtifactRecord>))]
[JsonSerializable(typeof(Bctrl.Relay.Observation.ObservationRecord))] // the events stream's data, for the OpenAPI document
internal sealed partial class RelayJsonContext : JsonSerializerContext;
