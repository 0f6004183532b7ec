using System.Text;

namespace Bctrl.Relay.Policy;

/// <summary>
/// A lease's CDP method policy (docs/policy.md): a preset, allow patterns and deny patterns, judged on a command's
/// method bytes as <see cref="CdpCommandScanner"/> read them. A method is denied when a deny pattern (the preset's or
/// the lease's own) matches it, or when allow patterns are given and none matches it.
/// </summary>
/// <remarks>
/// A pattern is a method (<c>Browser.close</c>), a domain (<c>Storage.*</c>) or <c>*</c>. Patterns are ASCII letters,
/// digits and <c>_</c> around one dot, so the stored form (<see cref="Text"/>) needs no escaping. Built once per lease
/// shape and shared by its attaches: <see cref="Allows"/> allocates nothing.
/// </remarks>
internal sealed class MethodPolicy
{
    public const int MaxPatterns = 64;
    public const int MaxPatternLength = 128;

    public const string ReadOnly = "readOnly";
    public const string NoBrowserControl = "noBrowserControl";

    /// <summary>
    /// <c>readOnly</c>: look, never touch. No input, no navigation, no script evaluation, no changes to the DOM or
    /// storage, no request interception, no target creation or closing, no browser control. Screenshots, DOM and
    /// accessibility reads, and the domains' enable/disable calls pass. <c>Page.addScriptToEvaluateOnNewDocument</c>
    /// passes too: Puppeteer sets up its isolated world with it on connect, and it runs nothing in the page that is
    /// loaded (the lease cannot navigate to load another).
    /// </summary>
    private static readonly string[] s_readOnly =
    [
        "Input.*",
        "Page.navigate", "Page.navigateToHistoryEntry", "Page.reload", "Page.stopLoading", "Page.setDocumentContent",
        "Page.close", "Page.crash", "Page.handleJavaScriptDialog",
        "Page.resetNavigationHistory", "Page.setDownloadBehavior",
        "Runtime.evaluate", "Runtime.callFunctionOn", "Runtime.compileScript", "Runtime.runScript", "Runtime.addBinding",
        "Debugger.evaluateOnCallFrame", "Debugger.setScriptSource", "Debugger.setVariableValue", "Debugger.setReturnValue",
        "DOM.setAttributeValue", "DOM.setAttributesAsText", "DOM.removeAttribute", "DOM.removeNode", "DOM.setNodeName",
        "DOM.setNodeValue", "DOM.setOuterHTML", "DOM.moveTo", "DOM.copyTo", "DOM.setFileInputFiles", "DOM.undo", "DOM.redo",
        "CSS.setStyleTexts", "CSS.setStyleSheetText", "CSS.setRuleSelector", "CSS.addRule",
        "Storage.clearDataForOrigin", "Storage.clearDataForStorageKey", "Storage.clearCookies", "Storage.setCookies",
        "Network.setCookie", "Network.setCookies", "Network.deleteCookies", "Network.clearBrowserCookies",
        "Network.clearBrowserCache", "Fetch.enable", "DOMStorage.setDOMStorageItem", "DOMStorage.removeDOMStorageItem",
        "DOMStorage.clear", "IndexedDB.clearObjectStore", "IndexedDB.deleteDatabase", "IndexedDB.deleteObjectStoreEntries",
        "Target.createTarget", "Target.closeTarget", "Target.createBrowserContext", "Target.disposeBrowserContext",
        "Target.activateTarget", "Browser.close", "Browser.crash", "Browser.crashGpuProcess", "Browser.grantPermissions",
        "Browser.setPermission", "Browser.resetPermissions",
    ];

    /// <summary>
    /// <c>noBrowserControl</c>: the browser stays up and keeps the tabs it did not get from this attach. Besides these,
    /// <c>Target.closeTarget</c> passes only for a target this attach created (<see cref="Judge"/>).
    /// </summary>
    private static readonly string[] s_noBrowserControl =
    [
        "Browser.close", "Browser.crash", "Browser.crashGpuProcess", "Target.disposeBrowserContext",
    ];

    private readonly Pattern[] _allow;
    private readonly Pattern[] _deny;

    private MethodPolicy(string? preset, string[] allow, string[] deny)
    {
        Preset = preset;
        Allow = allow;
        Deny = deny;
        _allow = [.. allow.Select(Pattern.Of)];
        _deny = [.. PresetPatterns(preset).Concat(deny).Select(Pattern.Of)];
        Name = preset ?? "allow/deny";
        Text = $"p={preset};a={string.Join(',', allow)};d={string.Join(',', deny)}";
    }

    /// <summary>The preset, or null.</summary>
    public string? Preset { get; }

    /// <summary>The lease's own allow patterns (empty: everything the deny patterns leave).</summary>
    public IReadOnlyList<string> Allow { get; }

    /// <summary>The lease's own deny patterns, beside the preset's.</summary>
    public IReadOnlyList<string> Deny { get; }

    /// <summary>What a refusal names: the preset, or "allow/deny".</summary>
    public string Name { get; }

    /// <summary>The stored form (a connection record's field), read back by <see cref="TryParseText"/>.</summary>
    public string Text { get; }

    /// <summary>
    /// Builds a policy from a request's fields, or says what is wrong with them. At least one field must be given; an
    /// unknown preset, an empty or malformed pattern, or more than <see cref="MaxPatterns"/> of a kind is an error.
    /// </summary>
    public static MethodPolicy? Create(string? preset, IReadOnlyList<string>? allow, IReadOnlyList<string>? deny, out string? error)
    {
        error = null;
        if (preset is not null && preset is not ReadOnly and not NoBrowserControl)
        {
            error = $"policy.preset must be \"{ReadOnly}\" or \"{NoBrowserControl}\".";
            return null;
        }

        if (preset is null && (allow is null || allow.Count == 0) && (deny is null || deny.Count == 0))
        {
            error = "policy must name a preset or give allow or deny patterns.";
            return null;
        }

        foreach (var (list, name) in new[] { (allow, "allow"), (deny, "deny") })
        {
            if (list is null)
            {
                continue;
            }

            if (list.Count > MaxPatterns)
            {
                error = $"policy.{name} holds at most {MaxPatterns} patterns.";
                return null;
            }

            foreach (var pattern in list)
            {
                if (!IsValidPattern(pattern))
                {
                    error = $"policy.{name} entries are methods (\"Browser.close\"), domains (\"Storage.*\") or \"*\": ASCII letters, digits and '_' around one dot, at most {MaxPatternLength} characters.";
                    return null;
                }
            }
        }

        return new MethodPolicy(preset, [.. allow ?? []], [.. deny ?? []]);
    }

    private static readonly ParsedTextCache<MethodPolicy> s_byText = new(TryParseText);

    /// <summary>The policy a lease's record carries (<see cref="Text"/>), built once per distinct text; null for none or an unreadable text.</summary>
    public static MethodPolicy? FromText(string? text) => s_byText.Get(text);

    /// <summary>Reads <see cref="Text"/> back; null when it is not a policy this version writes.</summary>
    public static MethodPolicy? TryParseText(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        var parts = text.Split(';');
        if (parts.Length != 3 || !parts[0].StartsWith("p=", StringComparison.Ordinal)
            || !parts[1].StartsWith("a=", StringComparison.Ordinal) || !parts[2].StartsWith("d=", StringComparison.Ordinal))
        {
            return null;
        }

        var preset = parts[0].Length > 2 ? parts[0][2..] : null;
        return Create(preset, List(parts[1][2..]), List(parts[2][2..]), out _);

        static string[] List(string value) => value.Length == 0 ? [] : value.Split(',');
    }

    /// <summary>Whether a command naming <paramref name="method"/> may reach the runtime; a conditional verdict counts as no.</summary>
    public bool Allows(ReadOnlySpan<byte> method) => Judge(method) == MethodVerdict.Allowed;

    /// <summary>
    /// The verdict on <paramref name="method"/>: allowed, denied, or (<c>noBrowserControl</c>'s <c>Target.closeTarget</c>)
    /// allowed only for a target the attach created, which the splice judges on the command's <c>params.targetId</c>.
    /// </summary>
    public MethodVerdict Judge(ReadOnlySpan<byte> method)
    {
        if (!Matches(method))
        {
            return MethodVerdict.Denied;
        }

        return Preset == NoBrowserControl && method.SequenceEqual("Target.closeTarget"u8) ? MethodVerdict.IfCreatedTarget : MethodVerdict.Allowed;
    }

    private bool Matches(ReadOnlySpan<byte> method)
    {
        foreach (var pattern in _deny)
        {
            if (pattern.Matches(method))
            {
                return false;
            }
        }

        if (_allow.Length == 0)
        {
            return true;
        }

        foreach (var pattern in _allow)
        {
            if (pattern.Matches(method))
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<string> PresetPatterns(string? preset) => preset switch
    {
        ReadOnly => s_readOnly,
        NoBrowserControl => s_noBrowserControl,
        _ => [],
    };

    private static bool IsValidPattern(string? pattern)
    {
        if (string.IsNullOrEmpty(pattern) || pattern.Length > MaxPatternLength)
        {
            return false;
        }

        if (pattern == "*")
        {
            return true;
        }

        var dot = pattern.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == pattern.Length - 1 || pattern.IndexOf('.', dot + 1) >= 0)
        {
            return false;
        }

        var domain = pattern.AsSpan(0, dot);
        var member = pattern.AsSpan(dot + 1);
        return IsName(domain) && (member is "*" || IsName(member));

        static bool IsName(ReadOnlySpan<char> name)
        {
            foreach (var c in name)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '_')
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>One pattern as bytes: exact, or a prefix ending in the dot (<c>Storage.</c>), or everything.</summary>
    private readonly struct Pattern
    {
        private readonly byte[] _bytes;
        private readonly bool _prefix;

        private Pattern(byte[] bytes, bool prefix)
        {
            _bytes = bytes;
            _prefix = prefix;
        }

        public static Pattern Of(string pattern) => pattern.EndsWith('*')
            ? new Pattern(Encoding.ASCII.GetBytes(pattern[..^1]), prefix: true)
            : new Pattern(Encoding.ASCII.GetBytes(pattern), prefix: false);

        public bool Matches(ReadOnlySpan<byte> method) => _prefix ? method.StartsWith(_bytes) : method.SequenceEqual(_bytes);
    }
}

/// <summary>What a policy says of a method (<see cref="MethodPolicy.Judge"/>).</summary>
internal enum MethodVerdict : byte
{
    Denied,
    Allowed,

    /// <summary>Allowed when the command's <c>params.targetId</c> names a target this attach created.</summary>
    IfCreatedTarget,
}
