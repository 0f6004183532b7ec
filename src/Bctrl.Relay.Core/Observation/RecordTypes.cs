namespace Bctrl.Relay.Observation;

/// <summary>The record types of docs/design.md §6.</summary>
internal static class RecordTypes
{
    public const string AttachOpened = "attach.opened";
    public const string AttachClosed = "attach.closed";
    public const string CdpCommand = "cdp.command";
    public const string CdpResult = "cdp.result";
    public const string CdpEvent = "cdp.event";

    /// <summary>An artifact was stored (docs/artifacts.md); <c>artifactId</c> names it.</summary>
    public const string ArtifactStored = "artifact.stored";

    public static IReadOnlyList<string> All { get; } = [AttachOpened, AttachClosed, CdpCommand, CdpResult, CdpEvent, ArtifactStored];
}
