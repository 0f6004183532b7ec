using Bctrl.Relay.Artifacts;

namespace Bctrl.Relay.Tests.Artifacts;

/// <summary>Artifact records for the store tests: the id and command id tell them apart, the rest is plausible.</summary>
internal static class ArtifactRecords
{
    public static readonly Guid ConnectionId = Guid.Parse("3c9e1b7a-6f2d-4a85-b0e4-9d7c5a3f1e26");

    public static ArtifactRecord Of(string runtimeId, int n, DateTimeOffset createdAt, long size = 10) => new()
    {
        Id = $"{n:x32}",
        RuntimeId = runtimeId,
        ConnectionId = ConnectionId,
        AttachId = 4,
        Kind = ArtifactKinds.Screenshot,
        Method = "Page.captureScreenshot",
        CommandId = n,
        SessionId = "S",
        ContentType = "image/png",
        Size = size,
        CreatedAt = createdAt,
    };

    /// <summary>Bytes that say which artifact they belong to.</summary>
    public static byte[] ContentOf(int n, int size = 10) => [.. Enumerable.Range(0, size).Select(i => (byte)(n + i))];
}
