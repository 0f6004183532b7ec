using System.Text;
using Bctrl.Relay.Policy;

namespace Bctrl.Relay.Tests.Policy;

/// <summary>docs/policy.md: how a lease's policy is built, stored and judged.</summary>
public class MethodPolicyTests
{
    [Theory]
    [InlineData("readOnly", "Page.captureScreenshot", true)]
    [InlineData("readOnly", "DOM.getDocument", true)]
    [InlineData("readOnly", "DOM.getOuterHTML", true)]
    [InlineData("readOnly", "Page.enable", true)]
    [InlineData("readOnly", "Browser.getVersion", true)]
    [InlineData("readOnly", "Input.dispatchMouseEvent", false)]
    [InlineData("readOnly", "Input.insertText", false)]
    [InlineData("readOnly", "Page.navigate", false)]
    [InlineData("readOnly", "Page.reload", false)]
    [InlineData("readOnly", "Runtime.evaluate", false)]
    [InlineData("readOnly", "Runtime.callFunctionOn", false)]
    [InlineData("readOnly", "Target.createTarget", false)]
    [InlineData("readOnly", "Target.closeTarget", false)]
    [InlineData("readOnly", "Browser.close", false)]
    [InlineData("noBrowserControl", "Browser.close", false)]
    [InlineData("noBrowserControl", "Browser.crash", false)]
    [InlineData("noBrowserControl", "Target.closeTarget", false)]
    [InlineData("noBrowserControl", "Runtime.evaluate", true)]
    [InlineData("noBrowserControl", "Browser.closeX", true)] // an exact method matches only itself
    public void Presets_deny_what_they_say(string preset, string method, bool allowed)
    {
        var policy = MethodPolicy.Create(preset, null, null, out var error)!;
        Assert.Null(error);
        Assert.Equal(allowed, policy.Allows(Encoding.ASCII.GetBytes(method)));
    }

    [Theory]
    [InlineData("Page.navigate", true)]
    [InlineData("DOM.getDocument", true)]
    [InlineData("DOMStorage.getDOMStorageItems", false)] // "DOM.*" is the DOM domain, not every name that starts with DOM
    [InlineData("Network.getAllCookies", false)]
    [InlineData("Page.close", false)] // deny wins over allow
    public void Allow_lists_admit_only_their_patterns_and_deny_wins(string method, bool allowed)
    {
        var policy = MethodPolicy.Create(null, ["Page.*", "DOM.*"], ["Page.close"], out _)!;
        Assert.Equal(allowed, policy.Allows(Encoding.ASCII.GetBytes(method)));
    }

    [Fact]
    public void A_star_denies_everything_but_what_is_allowed_elsewhere_never()
    {
        var policy = MethodPolicy.Create(null, null, ["*"], out _)!;
        Assert.False(policy.Allows("Page.enable"u8));
        Assert.False(policy.Allows("x"u8));
    }

    [Theory]
    [InlineData("admin", null, null)]
    [InlineData(null, null, null)]
    [InlineData(null, new string[0], new string[0])]
    [InlineData(null, new[] { "Browser" }, null)]
    [InlineData(null, null, new[] { "" })]
    [InlineData(null, null, new[] { "*.close" })]
    [InlineData(null, null, new[] { "Page.*.x" })]
    [InlineData(null, null, new[] { "Page.na vigate" })]
    [InlineData(null, null, new[] { "Page.navigate;p=" })]
    [InlineData(null, null, new[] { "Page.nav,igate" })]
    public void Malformed_policies_are_refused_with_a_reason(string? preset, string[]? allow, string[]? deny)
    {
        Assert.Null(MethodPolicy.Create(preset, allow, deny, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Too_many_patterns_are_refused()
    {
        var many = Enumerable.Range(0, MethodPolicy.MaxPatterns + 1).Select(i => $"Domain{i}.*").ToArray();
        Assert.Null(MethodPolicy.Create(null, null, many, out _));
        Assert.NotNull(MethodPolicy.Create(null, null, many[..MethodPolicy.MaxPatterns], out _));
    }

    [Fact]
    public void The_stored_form_reads_back_to_the_same_policy()
    {
        var policy = MethodPolicy.Create("readOnly", ["Page.*"], ["Storage.*", "Network.getAllCookies"], out _)!;
        var read = MethodPolicy.TryParseText(policy.Text)!;
        Assert.Equal("readOnly", read.Preset);
        Assert.Equal(["Page.*"], read.Allow);
        Assert.Equal(["Storage.*", "Network.getAllCookies"], read.Deny);
        Assert.Same(MethodPolicy.FromText(policy.Text), MethodPolicy.FromText(policy.Text));

        Assert.Null(MethodPolicy.TryParseText("p=admin;a=;d="));
        Assert.Null(MethodPolicy.TryParseText("garbage"));
        Assert.Null(MethodPolicy.FromText(null));
    }
}
