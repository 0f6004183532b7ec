using System.Text.Json.Serialization;

namespace Bctrl.Relay.Observation;

/// <summary>The wire form of records (camelCase, nulls left out): the same in SSE, in Redis streams and in the API.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ObservationRecord))]
[JsonSerializable(typeof(AttachRecord))]
[JsonSerializable(typeof(Bctrl.Relay.Artifacts.ArtifactRecord))]
internal sealed partial class ObservationJson : JsonSerializerContext;
