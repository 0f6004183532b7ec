namespace Bctrl.Relay.Client;

/// <summary>
/// Which CDP methods a lease's clients may send (the relay's docs/policy.md): a preset, allow and deny patterns
/// (<c>Page.navigate</c>, <c>Storage.*</c>, <c>*</c>), or a preset with extra deny patterns. A denied command never
/// reaches the browser; the client gets a CDP error (-32000) naming the policy.
/// </summary>
/// <param name="Preset"><c>readOnly</c> or <c>noBrowserControl</c>, or null.</param>
/// <param name="Allow">When given, only methods matching one of these pass.</param>
/// <param name="Deny">Methods that never pass, beside the preset's.</param>
public sealed record ConnectionPolicy(string? Preset = null, IReadOnlyList<string>? Allow = null, IReadOnlyList<string>? Deny = null)
{
    /// <summary>Look, never touch: no input, navigation, script, DOM or storage changes, target creation or closing.</summary>
    public static ConnectionPolicy ReadOnly { get; } = new("readOnly");

    /// <summary>The browser stays up and keeps the tabs the attach did not open: no <c>Browser.close</c>, <c>Browser.crash</c>, nor <c>Target.closeTarget</c> but of its own.</summary>
    public static ConnectionPolicy NoBrowserControl { get; } = new("noBrowserControl");
}

/// <summary>A lease limited to one page: it attaches to that target's socket only (the relay's docs/scope.md).</summary>
/// <param name="Target">The target (page) id.</param>
public sealed record ConnectionScope(string Target);

/// <summary>A lease's quotas (the relay's docs/quotas.md); each null for no limit.</summary>
/// <param name="CommandsPerSecond">Commands over this rate are answered with a CDP error (-32000), per relay node.</param>
/// <param name="MaxAttaches">Live attaches at once, across the fleet; one more is refused (429 <c>attach_quota_exceeded</c>).</param>
/// <param name="MaxAttachSeconds">An attach is closed with 4004 after this long.</param>
/// <param name="MaxBytes">An attach is closed with 4005 once it has moved this many bytes, both ways together.</param>
public sealed record ConnectionQuotas(int? CommandsPerSecond = null, int? MaxAttaches = null, int? MaxAttachSeconds = null, long? MaxBytes = null);

/// <summary>What a lease records beyond events (the relay's docs/artifacts.md).</summary>
/// <param name="Artifacts">Keep the screenshots, PDFs, screencast frames and downloads its attaches produce.</param>
public sealed record ConnectionRecording(bool Artifacts = false);
