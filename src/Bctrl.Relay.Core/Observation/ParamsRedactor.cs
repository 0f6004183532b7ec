using System.Text;

namespace Bctrl.Relay.Observation;

/// <summary>
/// Decides what of a command's parameters may be stored. Methods that carry what a user typed, credentials, cookies,
/// headers, scripts or page content keep only their size; the rest are stored as sent. Results and events never
/// store parameters (screenshot and screencast data are results and events).
/// </summary>
internal static class ParamsRedactor
{
    private static readonly HashSet<string> Sensitive = new(StringComparer.Ordinal)
    {
        "Input.insertText", "Input.dispatchKeyEvent", "Input.imeSetComposition",
        "Network.setCookie", "Network.setCookies", "Network.setExtraHTTPHeaders", "Network.continueInterceptedRequest",
        "Storage.setCookies", "Fetch.fulfillRequest", "Fetch.continueRequest", "Fetch.continueResponse", "Fetch.continueWithAuth",
        "Runtime.evaluate", "Runtime.callFunctionOn", "Runtime.compileScript", "Page.addScriptToEvaluateOnNewDocument",
        "Page.setDocumentContent", "DOM.setOuterHTML", "DOM.setNodeValue", "DOM.setAttributeValue", "DOM.setFileInputFiles",
        "Debugger.evaluateOnCallFrame", "Debugger.setScriptSource",
    };

    public static bool IsSensitive(string method) => Sensitive.Contains(method);

    /// <summary>The parameters to store, or a size-only stand-in for a sensitive method.</summary>
    public static string Redact(string method, ReadOnlySpan<byte> parameters)
        => IsSensitive(method) ? $"{{\"redacted\":true,\"bytes\":{parameters.Length}}}" : Encoding.UTF8.GetString(parameters);
}
