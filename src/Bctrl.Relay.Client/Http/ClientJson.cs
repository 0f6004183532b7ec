using System.Text.Json.Serialization;

namespace Bctrl.Relay.Client.Http;

/// <summary>The control API's JSON (camelCase, nulls left out), generated at build time so the client trims.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(PutRuntimeBody))]
[JsonSerializable(typeof(CreateConnectionBody))]
[JsonSerializable(typeof(Runtime))]
[JsonSerializable(typeof(Page<Runtime>))]
[JsonSerializable(typeof(CreatedConnection))]
[JsonSerializable(typeof(Connection))]
[JsonSerializable(typeof(Page<Connection>))]
[JsonSerializable(typeof(Page<AttachRecord>))]
[JsonSerializable(typeof(Page<Artifact>))]
[JsonSerializable(typeof(RelayEvent))]
[JsonSerializable(typeof(IReadOnlyList<Runtime>))]
[JsonSerializable(typeof(IReadOnlyList<Connection>))]
[JsonSerializable(typeof(IReadOnlyList<AttachRecord>))]
[JsonSerializable(typeof(IReadOnlyList<Artifact>))]
[JsonSerializable(typeof(string))]
internal sealed partial class ClientJson : JsonSerializerContext;
