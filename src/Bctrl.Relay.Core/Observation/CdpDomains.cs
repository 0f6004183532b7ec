using System.Text;

namespace Bctrl.Relay.Observation;

/// <summary>
/// CDP domains as a closed set, so that a domain can be a metric label (docs/design.md §7: by CDP domain, never by method or
/// id) without allocating a string per message. Anything else is "other".
/// </summary>
internal static class CdpDomains
{
    public const string Other = "other";

    private static readonly string[] Known =
    [
        "Accessibility", "Animation", "Audits", "Autofill", "BackgroundService", "BluetoothEmulation", "Browser", "CacheStorage",
        "Cast", "CSS", "Debugger", "DeviceAccess", "DeviceOrientation", "DOM", "DOMDebugger", "DOMSnapshot", "DOMStorage",
        "Emulation", "EventBreakpoints", "Extensions", "FedCm", "Fetch", "FileSystem", "HeadlessExperimental", "HeapProfiler",
        "IndexedDB", "Input", "Inspector", "IO", "LayerTree", "Log", "Media", "Memory", "Network", "Overlay", "Page",
        "Performance", "PerformanceTimeline", "Preload", "Profiler", "PWA", "Runtime", "Schema", "Security", "ServiceWorker",
        "Storage", "SystemInfo", "Target", "Tethering", "Tracing", "WebAudio", "WebAuthn",
    ];

    private static readonly byte[][] KnownUtf8 = Known.Select(Encoding.ASCII.GetBytes).ToArray();

    public static IReadOnlyList<string> All { get; } = [.. Known, Other];

    /// <summary>The domain of a method name like <c>Page.navigate</c>, from the closed set.</summary>
    public static string Of(ReadOnlySpan<byte> method)
    {
        var dot = method.IndexOf((byte)'.');
        if (dot <= 0)
        {
            return Other;
        }

        var domain = method[..dot];
        for (var i = 0; i < KnownUtf8.Length; i++)
        {
            if (domain.SequenceEqual(KnownUtf8[i]))
            {
                return Known[i];
            }
        }

        return Other;
    }

    public static string Of(string method) => Of(Encoding.UTF8.GetBytes(method));
}
