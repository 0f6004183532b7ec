namespace Bctrl.Relay.Artifacts;

/// <summary>Why an artifact was lost: the <c>reason</c> label of <c>bctrl_relay_artifacts_lost_total</c> (docs/artifacts.md).</summary>
internal static class ArtifactLoss
{
    /// <summary>Its message was larger than <c>Relay:Artifacts:MaxBytes</c>.</summary>
    public const string TooLarge = "too_large";

    /// <summary>The queue to the pump held <c>Relay:Artifacts:QueueBytes</c> already.</summary>
    public const string QueueFull = "queue_full";

    /// <summary>The message held no data the relay could read (not JSON, no base64 <c>data</c>).</summary>
    public const string Unreadable = "unreadable";

    /// <summary>A finished download whose file lies in no directory the relay may read, or is gone.</summary>
    public const string DownloadUnreachable = "download_unreachable";

    /// <summary>The store failed or did not answer in time.</summary>
    public const string StoreFailed = "store_failed";

    public static IReadOnlyList<string> All { get; } = [TooLarge, QueueFull, Unreadable, DownloadUnreachable, StoreFailed];
}
