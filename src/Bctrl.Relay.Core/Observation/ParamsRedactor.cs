using System.Text;

namespace Bctrl.Relay.Observation;

/// <summary>
/// Decides what of a command's parameters may be stored. An allow-list: only methods known to carry nothing a user
/// typed, no credential, cookie, header, script, storage item or page content keep their parameters; every other
/// method, including any the relay does not know, keeps only the parameters' size. A block-list missed methods that
/// carry secrets sideways (<c>Network.deleteCookies</c> names the cookie's value, <c>Target.sendMessageToTarget</c>
/// wraps a whole command). Results and events never store parameters.
/// </summary>
internal static class ParamsRedactor
{
    private static readonly HashSet<string> Allowed = new(StringComparer.Ordinal)
    {
        "Browser.getVersion", "Browser.setDownloadBehavior", "Browser.getWindowForTarget", "Browser.setWindowBounds",
        "Target.createTarget", "Target.closeTarget", "Target.attachToTarget", "Target.detachFromTarget", "Target.activateTarget",
        "Target.setAutoAttach", "Target.setDiscoverTargets", "Target.getTargets", "Target.getTargetInfo",
        "Target.createBrowserContext", "Target.disposeBrowserContext", "Target.getBrowserContexts",
        "Page.navigate", "Page.reload", "Page.stopLoading", "Page.getFrameTree", "Page.getNavigationHistory",
        "Page.setLifecycleEventsEnabled", "Page.createIsolatedWorld", "Page.captureScreenshot", "Page.printToPDF",
        "Page.startScreencast", "Page.stopScreencast", "Page.screencastFrameAck", "Page.bringToFront", "Page.close",
        "Page.getLayoutMetrics", "Page.setBypassCSP", "Page.setInterceptFileChooserDialog", "Page.handleJavaScriptDialog",
        "Runtime.runIfWaitingForDebugger", "Runtime.releaseObject", "Runtime.releaseObjectGroup", "Runtime.getProperties",
        "Emulation.setDeviceMetricsOverride", "Emulation.clearDeviceMetricsOverride", "Emulation.setTouchEmulationEnabled",
        "Emulation.setFocusEmulationEnabled", "Emulation.setEmulatedMedia", "Emulation.setScriptExecutionDisabled",
        "Emulation.setDefaultBackgroundColorOverride", "Input.dispatchMouseEvent", "Input.dispatchTouchEvent",
        "Network.setCacheDisabled", "Network.emulateNetworkConditions", "Network.setBypassServiceWorker",
        "DOM.getDocument", "DOM.describeNode", "DOM.resolveNode", "DOM.getBoxModel", "DOM.getContentQuads",
        "DOM.scrollIntoViewIfNeeded", "DOM.querySelector", "DOM.querySelectorAll", "Log.startViolationsReport",
        "Performance.getMetrics", "Accessibility.getFullAXTree", "Fetch.failRequest",
    };

    public static bool IsSensitive(string method) => !(Allowed.Contains(method) || IsToggle(method));

    /// <summary>The parameters to store, or a size-only stand-in.</summary>
    public static string Redact(string method, ReadOnlySpan<byte> parameters)
        => IsSensitive(method) ? $"{{\"redacted\":true,\"bytes\":{parameters.Length}}}" : Encoding.UTF8.GetString(parameters);

    /// <summary><c>Domain.enable</c> and <c>Domain.disable</c> carry switches only.</summary>
    private static bool IsToggle(string method)
        => method.IndexOf('.', StringComparison.Ordinal) > 0
           && (method.EndsWith(".enable", StringComparison.Ordinal) || method.EndsWith(".disable", StringComparison.Ordinal));
}
