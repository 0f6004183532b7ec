using Bctrl.Relay.Artifacts;

namespace Bctrl.Relay.Options;

/// <summary>Where a lease's artifacts are kept (docs/artifacts.md).</summary>
internal enum ArtifactStoreKind
{
    /// <summary>In Redis when <c>Relay:Redis</c> is set (a fleet), else in memory.</summary>
    Auto,

    /// <summary>In this process's memory: lost with it, seen by this node only.</summary>
    Memory,

    /// <summary>Files under <see cref="ArtifactOptions.Directory"/> (a volume the fleet's nodes share).</summary>
    Directory,

    /// <summary>In <c>Relay:Redis</c>, each artifact capped by <see cref="ArtifactOptions.MaxBytes"/>.</summary>
    Redis,
}

/// <summary>The <c>Relay:Artifacts</c> section: what a lease with <c>record.artifacts</c> keeps, where, and how much (docs/artifacts.md).</summary>
internal sealed class ArtifactOptions
{
    /// <summary>Auto (Redis in a fleet, else memory), Memory, Directory or Redis. Default Auto.</summary>
    public ArtifactStoreKind Store { get; set; }

    /// <summary>The Directory store's root; required with it.</summary>
    public string? Directory { get; set; }

    /// <summary>The largest runtime message captured whole, base64 and JSON included, and the largest download read (1 KiB to 256 MiB). Default 16 MiB.</summary>
    public int MaxBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Bytes of captures waiting for the store; a capture that finds it full is lost and counted. Default 64 MiB.</summary>
    public long QueueBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Seconds between the screencast frames kept per attach; 0 keeps none. Default 1.</summary>
    public double ScreencastFrameSeconds { get; set; } = 1;

    /// <summary>Artifacts kept per runtime; the oldest go first. Default 1000.</summary>
    public int PerRuntime { get; set; } = 1000;

    /// <summary>Bytes of artifacts the Memory store keeps over all runtimes; the oldest go first. Default 256 MiB.</summary>
    public long MemoryBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How long an artifact is kept. Default 24 hours.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Directories on this host where the runtimes' downloads land (the directories their clients name in
    /// <c>Browser.setDownloadBehavior</c>, mounted here): a finished download is read only from inside one of them.
    /// Default none: downloads are counted lost (<c>download_unreachable</c>).
    /// </summary>
    public List<string> DownloadDirectories { get; set; } = [];

    public void Validate()
    {
        if (MaxBytes is < 1024 or > 256 * 1024 * 1024)
        {
            throw new InvalidOperationException("Relay:Artifacts:MaxBytes must be between 1024 and 268435456" + RelayOptions.Got(MaxBytes));
        }

        if (QueueBytes < MaxBytes)
        {
            throw new InvalidOperationException("Relay:Artifacts:QueueBytes must be at least Relay:Artifacts:MaxBytes" + RelayOptions.Got(QueueBytes));
        }

        if (ScreencastFrameSeconds is < 0 or > 3600 || double.IsNaN(ScreencastFrameSeconds))
        {
            throw new InvalidOperationException("Relay:Artifacts:ScreencastFrameSeconds must be between 0 and 3600" + RelayOptions.Got(ScreencastFrameSeconds));
        }

        if (PerRuntime is < 1 or > 100_000)
        {
            throw new InvalidOperationException("Relay:Artifacts:PerRuntime must be between 1 and 100000" + RelayOptions.Got(PerRuntime));
        }

        if (MemoryBytes < MaxBytes)
        {
            throw new InvalidOperationException("Relay:Artifacts:MemoryBytes must be at least Relay:Artifacts:MaxBytes" + RelayOptions.Got(MemoryBytes));
        }

        if (Retention <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Relay:Artifacts:Retention must be positive.");
        }

        if (Store == ArtifactStoreKind.Directory && string.IsNullOrWhiteSpace(Directory))
        {
            throw new InvalidOperationException("Relay:Artifacts:Directory is required when Relay:Artifacts:Store is Directory.");
        }

        foreach (var directory in DownloadDirectories)
        {
            if (!Path.IsPathFullyQualified(directory))
            {
                throw new InvalidOperationException("Relay:Artifacts:DownloadDirectories must hold absolute paths.");
            }
        }
    }

    public ArtifactSettings ToSettings() => new(MaxBytes, TimeSpan.FromSeconds(ScreencastFrameSeconds));
}
