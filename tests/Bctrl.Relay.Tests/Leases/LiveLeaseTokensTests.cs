using Bctrl.Relay.Leases;
using Microsoft.Extensions.Time.Testing;
using static Bctrl.Relay.Tests.Leases.LeaseTestData;

namespace Bctrl.Relay.Tests.Leases;

/// <summary>docs/live-view.md: a live lease's interactivity is its protocol value, signed like every other claim.</summary>
public class LiveLeaseTokensTests
{
    [Theory]
    [InlineData((byte)LeaseProtocol.Cdp)]
    [InlineData((byte)LeaseProtocol.Live)]
    [InlineData((byte)LeaseProtocol.LiveInteractive)]
    public void Every_protocol_round_trips_and_the_token_keeps_its_length(byte value)
    {
        var protocol = (LeaseProtocol)value;
        var tokens = Tokens(Ring(Key("k1")), new FakeTimeProvider(Now));
        var cdp = tokens.Issue(Claims());
        var token = tokens.Issue(Claims() with { Protocol = protocol });

        Span<byte> scratch = stackalloc byte[LeaseTokens.ScratchBytes];
        Assert.Equal(LeaseVerifyResult.Valid, tokens.Verify(token, scratch, out var lease));
        Assert.Equal(protocol, lease.Protocol);
        Assert.Equal(cdp.Length, token.Length);
    }

    [Fact]
    public void A_live_token_is_not_made_interactive_by_editing_it()
    {
        var tokens = Tokens(Ring(Key("k1")), new FakeTimeProvider(Now));
        var token = tokens.Issue(Claims() with { Protocol = LeaseProtocol.Live });
        var interactive = tokens.Issue(Claims() with { Protocol = LeaseProtocol.LiveInteractive });

        // The claims differ in one byte; splicing the other token's claims onto this MAC fails the signature.
        var parts = token.Split('.');
        var other = interactive.Split('.');
        Assert.NotEqual(parts[2], other[2]);
        var forged = string.Join('.', parts[0], parts[1], other[2], parts[3]);
        Span<byte> scratch = stackalloc byte[LeaseTokens.ScratchBytes];
        Assert.Equal(LeaseVerifyResult.BadSignature, tokens.Verify(forged, scratch, out _));
    }
}
