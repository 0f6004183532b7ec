using Bctrl.Relay.Attach;
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

    public static void Configure(ILoggingBuilder logging)
    {
        logging.Services.PostConfigure<LoggerFilterOptions>(Guard);
        logging.Services.AddSingleton<RefusalSummary>();
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
    private static void Guard(LoggerFilterOptions options)
    {
        var configured = options.Rules.ToArray();
        var providers = configured.Select(r => r.ProviderName).Prepend(null).Distinct(StringComparer.Ordinal).ToArray();
        options.Rules.Clear();
        foreach (var rule in configured)
        {
            options.Rules.Add(CanMatchGuarded(rule.CategoryName)
                ? new LoggerFilterRule(rule.ProviderName, rule.CategoryName, rule.LogLevel, Clamped(rule.Filter))
                : rule);
        }

        foreach (var provider in providers)
        {
            foreach (var (category, least) in Guarded)
            {
                var level = LevelFor(configured, options.MinLevel, provider, category);
                options.Rules.Add(new LoggerFilterRule(provider, category, level > least ? level : least, null));
            }
        }
    }

    private static Func<string?, string?, LogLevel, bool> Clamped(Func<string?, string?, LogLevel, bool>? filter)
        => (provider, category, level) => level >= LeastFor(category) && (filter is null || filter(provider, category, level));

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
    private static bool CanMatchGuarded(string? ruleCategory)
    {
        if (ruleCategory is null)
        {
            return true;
        }

        var star = ruleCategory.IndexOf('*', StringComparison.Ordinal);
        var prefix = star < 0 ? ruleCategory : ruleCategory[..star];
        return Guarded.Any(g => prefix.StartsWith(g.Category, StringComparison.OrdinalIgnoreCase)
            || g.Category.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));
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
