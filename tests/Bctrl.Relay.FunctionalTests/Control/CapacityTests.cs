using System.Net.Http.Json;
using System.Text.Json;

namespace Bctrl.Relay.FunctionalTests.Control;

/// <summary><c>Relay:Limits:MaxAttaches</c>: past it, new attaches get 503 <c>at_capacity</c> with <c>Retry-After</c>.</summary>
public sealed class CapacityTests
{
    private static readonly Dictionary<string, string?> OneAttach = new() { ["Relay:Limits:MaxAttaches"] = "1" };

    [Fact(Timeout = 30_000)]
    public async Task With_one_live_attach_and_MaxAttaches_1_the_next_attach_is_503_at_capacity()
    {
        await using var rig = await AttachRig.StartAsync(OneAttach);
        var (id, token) = await rig.CreateAsync();

        using var first = await rig.AttachAsync(token);
        Assert.Equal(101, first.Status);
        Assert.Equal(1, rig.Runtime.Accepted);
        await WaitForLiveAsync(rig, id, 1);

        var (_, otherToken) = await rig.CreateAsync();
        foreach (var candidate in (string[])[token, otherToken])
        {
            using var second = await rig.AttachAsync(candidate);
            ApiAssert.Error(second, 503, "at_capacity");
            Assert.True(int.TryParse(second.Header("Retry-After"), out var seconds) && seconds > 0, $"Retry-After: {second.Header("Retry-After")}");
        }

        await Task.Delay(100);
        Assert.Equal(1, rig.Runtime.Accepted);

        // The first attach ending frees the place.
        first.Dispose();
        await WaitForLiveAsync(rig, id, 0);
        using (var counts = await rig.Relay.Http.GetFromJsonAsync<JsonDocument>($"v1/runtimes/{AttachRig.RuntimeId}/connections/{id}"))
        {
            Assert.Equal(1, counts!.RootElement.GetProperty("attaches").GetProperty("total").GetInt64());
        }

        using var third = await rig.AttachAsync(otherToken);
        Assert.Equal(101, third.Status);
        Assert.Equal(2, rig.Runtime.Accepted);
    }

    /// <summary>
    /// The limit holds under concurrency: two attaches that arrive together while the runtime takes its time to answer
    /// must not both get through when only one is allowed.
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task Two_attaches_racing_for_the_last_place_do_not_both_get_it()
    {
        await using var rig = await AttachRig.StartAsync(OneAttach);
        rig.Runtime.HandshakeDelay = TimeSpan.FromSeconds(1);
        var (_, token) = await rig.CreateAsync();

        var attaches = await Task.WhenAll(rig.AttachAsync(token), rig.AttachAsync(token));
        try
        {
            var statuses = attaches.Select(a => a.Status).Order().ToArray();
            Assert.Equal([101, 503], statuses);
        }
        finally
        {
            foreach (var attach in attaches)
            {
                attach.Dispose();
            }
        }
    }

    private static async Task WaitForLiveAsync(AttachRig rig, string connectionId, long live)
    {
        for (var i = 0; i < 100; i++)
        {
            using var state = await rig.Relay.Http.GetFromJsonAsync<JsonDocument>($"v1/runtimes/{AttachRig.RuntimeId}/connections/{connectionId}");
            if (state!.RootElement.GetProperty("attaches").GetProperty("live").GetInt64() == live)
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"The connection never reached {live} live attaches.");
    }
}
