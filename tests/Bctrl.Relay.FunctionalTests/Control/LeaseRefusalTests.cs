using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary>
/// docs/design.md §2 and §4 step 1: a refused attach gets a real HTTP answer before any upgrade (never a 101 then a close),
/// with the JSON error shape, and the relay never opens a connection to the runtime for it.
/// </summary>
public sealed class LeaseRefusalTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_valid_lease_does_reach_the_runtime()
    {
        // The control for every test below: the same rig, with a good token, opens one upstream connection.
        await using var rig = await AttachRig.StartAsync();
        var (_, token) = await rig.CreateAsync();
        using var response = await rig.AttachAsync(token);
        Assert.Equal(101, response.Status);
        Assert.Equal(1, rig.Runtime.Accepted);
        Assert.Equal(1, rig.Runtime.Upgrades);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("garbage")]
    [InlineData("1.test.AAAA.BBBB")]
    [InlineData("2.test.abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnop.abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq")]
    [InlineData("a")]
    [InlineData("1..")]
    [InlineData("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")]
    public async Task A_garbage_token_is_401_invalid_lease(string token)
    {
        await using var rig = await AttachRig.StartAsync();
        using var response = await rig.AttachAsync(token);
        ApiAssert.Error(response, 401, "invalid_lease");
        await rig.AssertNoUpstreamAsync();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_token_with_any_one_character_changed_is_401_invalid_lease()
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, token) = await rig.CreateAsync();
        var parts = token.Split('.');
        Assert.Equal(4, parts.Length);

        // One position in each part: the version, the key id, the claims (start, middle, end) and the MAC (start, end).
        var claimsStart = parts[0].Length + 1 + parts[1].Length + 1;
        var macStart = token.Length - parts[3].Length;
        int[] positions = [0, 2, claimsStart, claimsStart + (parts[2].Length / 2), macStart - 2, macStart, token.Length - 1];
        foreach (var position in positions)
        {
            var chars = token.ToCharArray();
            chars[position] = chars[position] == 'A' ? 'B' : 'A';
            var tampered = new string(chars);
            using var response = await rig.AttachAsync(tampered);
            ApiAssert.Error(response, 401, "invalid_lease");
        }

        // Dropping the last character, or adding one, is no better.
        using (var shorter = await rig.AttachAsync(token[..^1]))
        {
            ApiAssert.Error(shorter, 401, "invalid_lease");
        }

        using (var longer = await rig.AttachAsync(token + "A"))
        {
            ApiAssert.Error(longer, 401, "invalid_lease");
        }

        await rig.AssertNoUpstreamAsync();
    }

    [Fact(Timeout = 30_000)]
    public async Task An_expired_lease_is_401_lease_expired()
    {
        await using var rig = await AttachRig.StartAsync(new Dictionary<string, string?> { ["Relay:Leases:ClockSkew"] = "00:00:00" });
        var (_, token) = await rig.CreateAsync(ttlSeconds: 1);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        using var response = await rig.AttachAsync(token);
        ApiAssert.Error(response, 401, "lease_expired");
        await rig.AssertNoUpstreamAsync();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_deleted_lease_is_401_lease_revoked()
    {
        await using var rig = await AttachRig.StartAsync();
        var (id, token) = await rig.CreateAsync();
        var (_, other) = await rig.CreateAsync();
        await rig.Relay.DeleteConnectionAsync(AttachRig.RuntimeId, id);

        using var response = await rig.AttachAsync(token);
        ApiAssert.Error(response, 401, "lease_revoked");
        using var page = await rig.AttachAsync(token, "/devtools/page/" + CountingRuntime.PageId1);
        ApiAssert.Error(page, 401, "lease_revoked");
        await rig.AssertNoUpstreamAsync();

        // Only that lease: another connection of the same runtime still attaches.
        using var stillFine = await rig.AttachAsync(other);
        Assert.Equal(101, stillFine.Status);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_lease_whose_runtime_was_deleted_is_404_runtime_not_found()
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, token) = await rig.CreateAsync();
        using (var deleted = await rig.Relay.Http.DeleteAsync($"v1/runtimes/{AttachRig.RuntimeId}"))
        {
            Assert.Equal(204, (int)deleted.StatusCode);
        }

        using var response = await rig.AttachAsync(token);
        ApiAssert.Error(response, 404, "runtime_not_found");
        await rig.AssertNoUpstreamAsync();
    }

    /// <summary>
    /// docs/design.md §2: deleting a runtime means "its connections stop accepting attaches". A runtime id is a slot that the
    /// fleet reuses, so registering a new runtime under the same id must not revive the old leases: they would lead
    /// whoever holds them into a browser that was never leased to them.
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task A_lease_of_a_deleted_runtime_stays_refused_after_the_id_is_registered_again()
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, token) = await rig.CreateAsync();
        using (var deleted = await rig.Relay.Http.DeleteAsync($"v1/runtimes/{AttachRig.RuntimeId}"))
        {
            Assert.Equal(204, (int)deleted.StatusCode);
        }

        await rig.Relay.PutRuntimeAsync(AttachRig.RuntimeId, rig.Runtime.CdpUrl);
        using var response = await rig.AttachAsync(token);
        Assert.NotEqual(101, response.Status);
        Assert.InRange(response.Status, 400, 499);
        await rig.AssertNoUpstreamAsync();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_token_signed_by_another_relay_with_another_key_is_401_invalid_lease()
    {
        await using var rig = await AttachRig.StartAsync();
        var (_, ours) = await rig.CreateAsync();

        // Same key id ("test"), same runtime id, another secret; and a relay whose key has another id altogether.
        var otherSecret = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes("another-relay-signing-key-0123456789abcdef"));
        foreach (var settings in new[]
        {
            new Dictionary<string, string?> { ["Relay:SigningKeys:0:Secret"] = otherSecret },
            new Dictionary<string, string?> { ["Relay:SigningKeys:0:Id"] = "elsewhere", ["Relay:SigningKeys:0:Secret"] = otherSecret },
        })
        {
            string foreign;
            await using (var other = await RelayServer.StartAsync(settings))
            {
                await other.PutRuntimeAsync(AttachRig.RuntimeId, rig.Runtime.CdpUrl);
                var (_, url) = await other.CreateConnectionAsync(AttachRig.RuntimeId);
                foreign = AttachRig.TokenOf(url);
            }

            Assert.NotEqual(ours, foreign);
            using var response = await rig.AttachAsync(foreign);
            ApiAssert.Error(response, 401, "invalid_lease");
        }

        await rig.AssertNoUpstreamAsync();
    }
}
