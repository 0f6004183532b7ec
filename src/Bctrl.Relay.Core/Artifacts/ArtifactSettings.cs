namespace Bctrl.Relay.Artifacts;

/// <summary>The capture's knobs, from <c>Relay:Artifacts</c> (docs/artifacts.md).</summary>
/// <param name="MaxMessageBytes">The largest runtime message captured whole (its base64 payload and JSON around it).</param>
/// <param name="ScreencastFrameInterval">At most one screencast frame per attach per this long; zero takes none.</param>
internal sealed record ArtifactSettings(int MaxMessageBytes, TimeSpan ScreencastFrameInterval)
{
    public static ArtifactSettings Default { get; } = new(16 * 1024 * 1024, TimeSpan.FromSeconds(1));
}
