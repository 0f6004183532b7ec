namespace Bctrl.Relay.Client;

/// <summary>One artifact of a runtime (the relay's docs/artifacts.md): what it is and where it came from.</summary>
/// <param name="Id">The artifact id (32 hex digits).</param>
/// <param name="RuntimeId">The runtime it came from.</param>
/// <param name="ConnectionId">The connection (lease) whose attach produced it.</param>
/// <param name="AttachId">The attach that produced it.</param>
/// <param name="Kind"><c>screenshot</c>, <c>pdf</c>, <c>screencastFrame</c> or <c>download</c>.</param>
/// <param name="Method">The CDP method it came with: the command of a result, or the event.</param>
/// <param name="ContentType">The bytes' type: <c>image/png</c>, <c>image/jpeg</c>, <c>application/pdf</c>, …</param>
/// <param name="Size">The bytes' length.</param>
/// <param name="CreatedAt">When it passed the relay.</param>
/// <param name="CommandId">The id of the command whose result held it; null for events.</param>
/// <param name="SessionId">The CDP session it passed on, if any.</param>
/// <param name="Name">A download's suggested file name.</param>
public sealed record Artifact(
    string Id, string RuntimeId, Guid ConnectionId, long AttachId, string Kind, string Method, string ContentType, long Size, DateTimeOffset CreatedAt,
    long? CommandId = null, string? SessionId = null, string? Name = null);

/// <summary>An artifact's bytes and their content type.</summary>
public sealed record ArtifactContent(byte[] Bytes, string? ContentType);
