namespace Bctrl.Relay.Artifacts;

/// <summary>The names of <see cref="ArtifactKind"/> on the wire (the record's <c>kind</c>, the metrics' label).</summary>
internal static class ArtifactKinds
{
    public const string Screenshot = "screenshot";
    public const string Pdf = "pdf";
    public const string ScreencastFrame = "screencastFrame";
    public const string Download = "download";

    public static IReadOnlyList<string> All { get; } = [Screenshot, Pdf, ScreencastFrame, Download];

    public static string Of(ArtifactKind kind) => kind switch
    {
        ArtifactKind.Screenshot => Screenshot,
        ArtifactKind.Pdf or ArtifactKind.PdfChunk => Pdf,
        ArtifactKind.ScreencastFrame => ScreencastFrame,
        _ => Download,
    };
}
