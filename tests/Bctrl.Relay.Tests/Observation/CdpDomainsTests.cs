using System.Text;
using Bctrl.Relay.Observation;

namespace Bctrl.Relay.Tests.Observation;

/// <summary><see cref="CdpDomains"/>: a closed set of metric label values (docs/design.md §7: by CDP domain, never by method).</summary>
public sealed class CdpDomainsTests
{
    [Theory(Timeout = 10_000)]
    [InlineData("Page.navigate", "Page")]
    [InlineData("Target.createTarget", "Target")]
    [InlineData("Runtime.callFunctionOn", "Runtime")]
    [InlineData("DOM.getDocument", "DOM")]
    [InlineData("DOMStorage.setDOMStorageItem", "DOMStorage")]
    [InlineData("DOMDebugger.setDOMBreakpoint", "DOMDebugger")]
    [InlineData("CSS.enable", "CSS")]
    [InlineData("IO.read", "IO")]
    [InlineData("Network.setCookies.extra", "Network")]
    [InlineData("Page.", "Page")]
    [InlineData("page.navigate", "other")]
    [InlineData("Pages.navigate", "other")]
    [InlineData("Pag.navigate", "other")]
    [InlineData("Unknown.method", "other")]
    [InlineData(".navigate", "other")]
    [InlineData("Page", "other")]
    [InlineData("", "other")]
    [InlineData("Bctrl-7d4c2a1e-55b0.x", "other")]
    public async Task A_method_maps_to_its_domain_or_to_other(string method, string domain)
    {
        await Task.Yield();

        Assert.Equal(domain, CdpDomains.Of(Encoding.UTF8.GetBytes(method)));
        Assert.Equal(domain, CdpDomains.Of(method));
    }

    [Fact(Timeout = 10_000)]
    public async Task Every_domain_of_the_set_maps_to_itself_and_the_set_is_small_and_unique()
    {
        await Task.Yield();

        Assert.Contains(CdpDomains.Other, CdpDomains.All);
        Assert.Equal(CdpDomains.All.Count, CdpDomains.All.Distinct(StringComparer.Ordinal).Count());
        Assert.InRange(CdpDomains.All.Count, 40, 100);
        foreach (var domain in CdpDomains.All.Where(d => d != CdpDomains.Other))
        {
            Assert.Same(CdpDomains.All.Single(d => d == domain), CdpDomains.Of(Encoding.ASCII.GetBytes(domain + ".anything")));
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task Of_a_span_allocates_nothing_after_warm_up()
    {
        await Task.Yield();
        byte[][] methods = ["Page.navigate"u8.ToArray(), "WebAuthn.enable"u8.ToArray(), "Nope.x"u8.ToArray(), "nodot"u8.ToArray()];
        var total = 0;
        for (var i = 0; i < 100; i++)
        {
            Run();
        }

        var allocated = Allocations.LeastOf(8, () =>
        {
            total = 0;
            for (var i = 0; i < 1000; i++)
            {
                Run();
            }
        });

        Assert.Equal(0, allocated);
        Assert.Equal(1000 * ("Page".Length + "WebAuthn".Length + (2 * CdpDomains.Other.Length)), total);

        void Run()
        {
            foreach (var method in methods)
            {
                total += CdpDomains.Of(method).Length;
            }
        }
    }
}
