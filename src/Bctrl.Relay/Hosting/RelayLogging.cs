using Bctrl.Relay.Attach;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Bctrl.Relay.Hosting;

/// <summary>
/// The relay's own logging: the framework's loggers kept away from request paths (they carry lease tokens) under any
/// logging configuration, and the summary of refused requests.
/// </summary>
internal static class RelayLogging
{
    /// <summary>
    /// The framework's categories that write a request's path, its request line or its headers, and the least level
    /// each may log at. Hosting is off entirely (it logs nothing above Information, "Request starting GET /cdp/TOKEN"):
    /// while its logger is enabled at any level it also creates an Activity and two log scopes per request, one with
    /// the path, which every live attach then holds (bench/README.md) and every other line of the request would carry.
    /// Routing logs the path at Debug ("candidate(s) found for the request path"); minimal APIs' parameter binding and
    /// results at Debug; Kestrel quotes the rejected request line or header in bad-request messages whenever its
    /// general logger is enabled at Information. None of them writes a path at Warning or above.
    /// </summary>
    private static readonly (string Category, LogLevel Least)[] Guarded =
    [
        ("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None),
        ("Microsoft.AspNetCore.Routing", LogLevel.Warning),
        ("Microsoft.AspNetCore.Http", LogLevel.Warning),
        ("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Warning),
    ];

    /// <summary>
    /// The generic host's own category. When a start fails (a port in use) it logs the exception with its stack trace
    /// before rethrowing it; the relay's process reports the same failure as one line on stderr (docs/operations.md),
    /// so the host's errors are held back until the relay has started. Its other lines are Debug.
    /// </summary>
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    public static void Configure(ILoggingBuilder logging, IConfiguration configuration)
    {
        logging.Services.AddSingleton<HostStartup>();
        logging.Services.AddOptions<LoggerFilterOptions>().PostConfigure<HostStartup>(Guard);
        logging.Services.AddSingleton<RefusalSummary>();
        AddJsonConsole(logging, configuration);
    }

    /// <summary>
    /// <c>WebApplication.CreateSlimBuilder</c> registers the console's simple formatter only, and names it in code after
    /// the configuration is read, so <c>Logging:Console:FormatterName</c> had no effect. This registers the JSON formatter
    /// and the systemd one too (options from <c>Logging:Console:FormatterOptions</c>) and lets the configured name choose,
    /// on every reload; without one, the simple formatter. Nothing is added when the console provider is not there (the tests' hosts).
    /// </summary>
    private static void AddJsonConsole(ILoggingBuilder logging, IConfiguration configuration)
    {
        if (!logging.Services.Any(d => d.ServiceType == typeof(ILoggerProvider) && d.ImplementationType == typeof(ConsoleLoggerProvider)))
        {
            return;
        }

        logging.AddJsonConsole();
        logging.AddSystemdConsole();
        logging.Services.PostConfigure<ConsoleLoggerOptions>(console => console.FormatterName =
            configuration["Logging:Console:FormatterName"] is { Length: > 0 } name ? name : ConsoleFormatterNames.Simple);
    }

    /// <summary>Whether the host has started: until then its errors are the process's one stderr line, not log lines.</summary>
    internal sealed class HostStartup
    {
        private volatile bool _started;

        public void Started() => _started = true;

        public bool Hides(string? category, LogLevel level)
            => !_started && level >= LogLevel.Error && string.Equals(category, HostCategory, StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs after every other configuration of the filters (appsettings, environment, code), and again on each reload.
    /// The logger factory picks one rule per provider and category (<c>LoggerRuleSelector</c>): a rule naming the
    /// provider (<c>Logging:Console:LogLevel:…</c>) beats any rule that does not, then the longest category wins, then
    /// the last rule. So a plain <c>AddFilter</c> loses to <c>Logging:Console:LogLevel:Default</c> (issue 8, finding
    /// 4). Two things together make the clamp hold whatever the rules say:
    /// <list type="bullet">
    /// <item>for each guarded category, a rule of the relay's own, appended last, for every provider any rule names and
    /// for none: nothing configured is more specific except a longer category, so in the usual case the level alone
    /// decides and the framework's logger is not even created for the provider;</item>
    /// <item>every configured rule that could match a guarded category (a longer one such as
    /// <c>Microsoft.AspNetCore.Routing.Matching.DfaMatcher</c>, a wildcard, a default) gets a filter that refuses a
    /// guarded category below its least level, so the rule that wins carries the clamp whichever it is.</item>
    /// </list>
    /// Rules only ever get stricter: a stricter configured level is kept.
    /// </summary>
    private static void Guard(LoggerFilterOptions options, HostStartup startup)
    {
        var configured = options.Rules.ToArray();
        var providers = configured.Select(r => r.ProviderName).Prepend(null).Distinct(StringComparer.Ordinal).ToArray();
        options.Rules.Clear();
        foreach (var rule in configured)
        {
            options.Rules.Add(CanMatchGuarded(rule.CategoryName) || CanMatch(rule.CategoryName, HostCategory)
                ? new LoggerFilterRule(rule.ProviderName, rule.CategoryName, rule.LogLevel, Clamped(rule.Filter, startup))
                : rule);
        }

        foreach (var provider in providers)
        {
            foreach (var (category, least) in Guarded)
            {
                var level = LevelFor(configured, options.MinLevel, provider, category);
                options.Rules.Add(new LoggerFilterRule(provider, category, level > least ? level : least, null));
            }

            options.Rules.Add(new LoggerFilterRule(
                provider, HostCategory, LevelFor(configured, options.MinLevel, provider, HostCategory), (_, category, level) => !startup.Hides(category, level)));
        }
    }

    private static Func<string?, string?, LogLevel, bool> Clamped(Func<string?, string?, LogLevel, bool>? filter, HostStartup startup)
        => (provider, category, level) => level >= LeastFor(category) && !startup.Hides(category, level)
            && (filter is null || filter(provider, category, level));

    private static LogLevel LeastFor(string? category)
    {
        foreach (var (guarded, least) in Guarded)
        {
            if (category is not null && category.StartsWith(guarded, StringComparison.OrdinalIgnoreCase))
            {
                return least;
            }
        }

        return LogLevel.Trace;
    }

    /// <summary>Whether a rule's category (a prefix, with at most one <c>*</c>) can match some guarded category.</summary>
    private static bool CanMatchGuarded(string? ruleCategory) => Guarded.Any(g => CanMatch(ruleCategory, g.Category));

    /// <summary>Whether a rule's category (a prefix, with at most one <c>*</c>) can match <paramref name="category"/> or a longer one.</summary>
    private static bool CanMatch(string? ruleCategory, string category)
    {
        if (ruleCategory is null)
        {
            return true;
        }

        var star = ruleCategory.IndexOf('*', StringComparison.Ordinal);
        var prefix = star < 0 ? ruleCategory : ruleCategory[..star];
        return prefix.StartsWith(category, StringComparison.OrdinalIgnoreCase) || category.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The level the configured rules give <paramref name="category"/> itself for <paramref name="provider"/> (null: a
    /// provider no rule names), chosen as the logger factory chooses, so that the relay's rule keeps a stricter one.
    /// </summary>
    private static LogLevel LevelFor(LoggerFilterRule[] rules, LogLevel minLevel, string? provider, string category)
    {
        LoggerFilterRule? best = null;
        foreach (var rule in rules)
        {
            if ((rule.ProviderName is not null && rule.ProviderName != provider) || !Matches(rule.CategoryName, category))
            {
                continue;
            }

            var better = best is null
                || (best.ProviderName is null && rule.ProviderName is not null)
                || ((best.ProviderName is null) == (rule.ProviderName is null)
                    && (best.CategoryName?.Length ?? 0) <= (rule.CategoryName?.Length ?? 0));
            if (better)
            {
                best = rule;
            }
        }

        return best is null ? minLevel : best.LogLevel ?? LogLevel.Trace;
    }

    private static bool Matches(string? ruleCategory, string category)
    {
        if (ruleCategory is null)
        {
            return true;
        }

        var star = ruleCategory.IndexOf('*', StringComparison.Ordinal);
        return star < 0
            ? category.StartsWith(ruleCategory, StringComparison.OrdinalIgnoreCase)
            : category.Length >= ruleCategory.Length - 1
                && category.StartsWith(ruleCategory[..star], StringComparison.OrdinalIgnoreCase)
                && category.EndsWith(ruleCategory[(star + 1)..], StringComparison.OrdinalIgnoreCase);
    }
}
