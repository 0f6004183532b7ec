namespace Bctrl.Relay.Artifacts;

/// <summary>
/// A whole runtime message copied off the splice for the artifact pump, with where it came from. <see cref="Buffer"/>
/// is rented from the shared pool; whoever takes the message returns it (<see cref="Release"/>).
/// </summary>
internal sealed class CapturedMessage
{
    public required ArtifactKind Kind { get; init; }

    public required string Method { get; init; }

    public required string RuntimeId { get; init; }

    public required Guid ConnectionId { get; init; }

    public required long AttachId { get; init; }

    /// <summary>The id of the command a result answers; null for an event.</summary>
    public long? CommandId { get; init; }

    public string? SessionId { get; init; }

    /// <summary>For a <see cref="ArtifactKind.PdfChunk"/>, the stream it reads; for a <see cref="ArtifactKind.Pdf"/> result, the stream it names, if any.</summary>
    public string? StreamHandle { get; init; }

    /// <summary>For a <see cref="ArtifactKind.PdfChunk"/>, its read's place among the stream's reads, from 0.</summary>
    public int Sequence { get; init; }

    public required DateTimeOffset CapturedAt { get; init; }

    public byte[] Buffer { get; set; } = [];

    public int Length { get; set; }

    /// <summary>The room reserved for it in the sink's bound (<see cref="IArtifactSink.TryReserve"/>).</summary>
    public long Reserved { get; set; }

    public ReadOnlySpan<byte> Message => Buffer.AsSpan(0, Length);

    public void Release()
    {
        var buffer = Buffer;
        Buffer = [];
        Length = 0;
        if (buffer.Length > 0)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
