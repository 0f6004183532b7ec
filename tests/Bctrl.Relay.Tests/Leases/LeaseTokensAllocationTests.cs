using Bctrl.Relay.Leases;
using Microsoft.Extensions.Time.Testing;
using static Bctrl.Relay.Tests.Leases.LeaseTestData;

namespace Bctrl.Relay.Tests.Leases;

public class LeaseTokensAllocationTests
{
    [Fact]
    public void Verify_AllocatesNothing_AfterWarmUp()
    {
        var time = new FakeTimeProvider(Now);
        var tokens = Tokens(Ring(Key("new", 1), Key("old", 2)), time);
        var valid = tokens.Issue(Claims("7d4c2a1e-55b0-4c8e-9e0b-3f1f4a2d6c88"));
        var scoped = tokens.Issue(Claims("7d4c2a1e-55b0-4c8e-9e0b-3f1f4a2d6c88") with { ScopeTarget = "8F2B0C6D4E1A3579BDF02468ACE13579" });
        var forged = valid[..^2] + (valid[^2] == 'A' ? "B" : "A") + valid[^1];
        var unknown = valid.Replace("1.new.", "1.xyz.", StringComparison.Ordinal);
        var scratch = new byte[LeaseTokens.ScratchBytes];
        var outcomes = new int[8];
        var scopedOutcomes = new int[8];

        for (var i = 0; i < 100; i++)
        {
            Run();
        }

        var allocated = Allocations.LeastOf(8, () =>
        {
            Array.Clear(outcomes);
            Array.Clear(scopedOutcomes);
            for (var i = 0; i < 1000; i++)
            {
                Run();
            }
        });

        Assert.Equal(0, allocated);
        Assert.Equal(1000, outcomes[(int)LeaseVerifyResult.Valid]);
        Assert.Equal(1000, outcomes[(int)LeaseVerifyResult.BadSignature]);
        Assert.Equal(1000, outcomes[(int)LeaseVerifyResult.UnknownKey]);
        Assert.Equal(1000, outcomes[(int)LeaseVerifyResult.Malformed]);
        Assert.Equal(1000, scopedOutcomes[(int)LeaseVerifyResult.Valid]);

        void Run()
        {
            outcomes[(int)tokens.Verify(valid, scratch, out var lease)] += lease.RuntimeIdEquals("7d4c2a1e-55b0-4c8e-9e0b-3f1f4a2d6c88") ? 1 : 100;
            outcomes[(int)tokens.Verify(forged, scratch, out _)]++;
            outcomes[(int)tokens.Verify(unknown, scratch, out _)]++;
            outcomes[(int)tokens.Verify(valid.AsSpan(1), scratch, out _)]++;
            scopedOutcomes[(int)tokens.Verify(scoped, scratch, out var scopedLease)] +=
                scopedLease.ScopeTargetEquals("8F2B0C6D4E1A3579BDF02468ACE13579") && !scopedLease.ScopeTargetEquals("8F2B0C6D4E1A3579BDF02468ACE1357") ? 1 : 100;
        }
    }
}
