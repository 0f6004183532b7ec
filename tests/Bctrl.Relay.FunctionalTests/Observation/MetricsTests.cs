using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Observation;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Observation;

/// <summary>
/// Issue 4, item 5 and docs/design.md §7: <c>/metrics</c> is Prometheus text, its counters move as a run proceeds, and its label
/// values are low-cardinality: never a connection, runtime, attach, session or target id, a CDP method, or a token.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class MetricsTests
{
    private const string SessionId = "5E55A1B2C3D4E5F60718293A4B5C6D7E";
    private const string TargetId = "7A46E7A1C0DE4B1D9C2E3F405162738A";

    [Fact(Timeout = 30_000)]
    public async Task Metrics_parse_as_Prometheus_text_and_counters_move_between_two_scrapes_of_a_run()
    {
        await using var rig = await ObservationRig.StartAsync();
        var lease = await rig.CreateLeaseAsync();
        var (client, runtime) = await rig.AttachAsync(lease);
        await using var clientScope = client;
        var responder = ObservationRig.RespondAsync(runtime);
        await RoundTripsAsync(client, 1, 5);

        var first = await rig.ScrapeUntilAsync(m => m.Sum("bctrl_relay_cdp_command_duration_seconds_count") >= 5, "the first five round trips");

        await RoundTripsAsync(client, 6, 20);
        var second = await rig.ScrapeUntilAsync(
            m => m.Sum("bctrl_relay_cdp_command_duration_seconds_count") >= 20
                && m.Sum("bctrl_relay_io_bytes_total", ("direction", "client_to_runtime")) > first.Sum("bctrl_relay_io_bytes_total", ("direction", "client_to_runtime")),
            "the next fifteen round trips");

        // Both directions and every per-frame counter moved; the round-trip histogram is by CDP domain.
        foreach (var (name, direction) in new[]
        {
            ("bctrl_relay_io_bytes_total", "client_to_runtime"), ("bctrl_relay_io_bytes_total", "runtime_to_client"),
            ("bctrl_relay_frames_total", "client_to_runtime"), ("bctrl_relay_frames_total", "runtime_to_client"),
            ("bctrl_relay_messages_total", "client_to_runtime"), ("bctrl_relay_messages_total", "runtime_to_client"),
        })
        {
            var before = first.Sum(name, ("direction", direction));
            var after = second.Sum(name, ("direction", direction));
            Assert.True(before > 0 && after > before, $"{name}{{direction={direction}}} went from {before} to {after}");
        }

        Assert.Equal(20, second.Sum("bctrl_relay_messages_total", ("direction", "client_to_runtime")));
        Assert.Equal(40, second.Sum("bctrl_relay_messages_total", ("direction", "runtime_to_client")));
        Assert.Equal(10, second.Sum("bctrl_relay_cdp_command_duration_seconds_count", ("cdp_domain", "Page")));
        Assert.Equal(10, second.Sum("bctrl_relay_cdp_command_duration_seconds_count", ("cdp_domain", "Runtime")));
        Assert.Equal(1, second.Sum("bctrl_relay_attach_attempts_total", ("result", "opened")));
        Assert.Equal(1, second.Sum("bctrl_relay_attach_live"));
        Assert.Equal("counter", second.FamilyTypes["bctrl_relay_observation_dropped_total"]);
        Assert.Equal("histogram", second.FamilyTypes["bctrl_relay_cdp_command_duration_seconds"]);
        Assert.Equal(0, second.Sum("bctrl_relay_observation_dropped_total"));

        // No counter of the relay's ever goes down between scrapes. (The runtime's and Kestrel's meters are exported
        // beside them; their up-down counters, like the thread pool's queue length, may go either way.)
        var counters = second.FamilyTypes.Where(t => t.Value is "counter" or "histogram" && t.Key.StartsWith("bctrl_relay_", StringComparison.Ordinal))
            .Select(t => t.Key).ToHashSet();
        foreach (var sample in first.Samples.Where(s => counters.Any(c => s.Name.StartsWith(c, StringComparison.Ordinal)) && !s.Name.EndsWith("_sum", StringComparison.Ordinal)))
        {
            var later = second.Samples.SingleOrDefault(s => s.Key == sample.Key);
            Assert.True(later is not null && later.Value >= sample.Value, $"{sample.Key} went from {sample.Value} to {later?.Value}");
        }

        // The attach's end moves the closes counter and the live gauge, and keeps the retired totals.
        await client.SendCloseAsync(1000);
        await responder;
        var third = await rig.ScrapeUntilAsync(m => m.Sum("bctrl_relay_attach_closes_total") == 1 && m.Sum("bctrl_relay_attach_live") == 0, "the attach's end");
        Assert.Equal(1, third.Sum("bctrl_relay_attach_closes_total", ("reason", "client_closed")));
        Assert.True(third.Sum("bctrl_relay_io_bytes_total", ("direction", "client_to_runtime")) > second.Sum("bctrl_relay_io_bytes_total", ("direction", "client_to_runtime")));
    }

    [Fact(Timeout = 30_000)]
    public async Task No_label_value_is_an_id_a_method_or_a_token()
    {
        await using var rig = await ObservationRig.StartAsync();
        var leases = new[] { await rig.CreateLeaseAsync(), await rig.CreateLeaseAsync() };
        var attachIds = new List<long>();
        foreach (var lease in leases)
        {
            var (client, runtime) = await rig.AttachAsync(lease);
            await using var clientScope = client;
            var responder = ObservationRig.RespondAsync(runtime);
            await client.SendRawAsync(ObservationRig.Command(1, "Target.attachToTarget", $$$"""{"targetId":"{{{TargetId}}}","flatten":true}"""));
            await client.SendRawAsync(ObservationRig.Command(2, "Page.navigate", """{"url":"http://127.0.0.1/"}""", SessionId));
            await client.SendRawAsync(ObservationRig.Command(3, "Fail.method", "{}", SessionId));
            for (var i = 0; i < 6; i++)
            {
                await client.ReadFrameSkippingPingsAsync();
            }

            // The second lease is terminated, the first closes normally: both end with a label-worthy close.
            if (lease == leases[0])
            {
                await client.SendCloseAsync(1000);
                await responder;
            }
            else
            {
                await rig.Relay.DeleteConnectionAsync(ObservationRig.RuntimeId, lease.Id, terminate: true);
                await client.ExpectCloseAndAnswerAsync();
            }

            attachIds.Add((await rig.WaitForAttachesAsync(lease.Id, a => a.Length == 1 && a[0].TryGetProperty("closedAt", out _)))[0].GetProperty("attachId").GetInt64());
        }

        // Refusals too: a revoked lease and a forged one.
        await RefusedAsync(leases[1].Endpoint);
        await RefusedAsync(new Uri(leases[0].Endpoint.AbsoluteUri[..^2] + "xx"));
        var metrics = await rig.ScrapeUntilAsync(m => m.Sum("bctrl_relay_attach_closes_total") == 2, "both attaches' ends");

        var forbiddenNames = new[] { "connection", "runtime", "attach_id", "lease", "token", "session", "target", "method", "url", "id" };
        var forbiddenValues = new List<(string What, string Value)>
        {
            ("runtime id", ObservationRig.RuntimeId), ("session id", SessionId), ("target id", TargetId), ("url", "http://127.0.0.1/"),
        };
        foreach (var lease in leases)
        {
            forbiddenValues.Add(("connection id", lease.Id));
            forbiddenValues.Add(("connection id", lease.Id.Replace("-", string.Empty, StringComparison.Ordinal)));
            forbiddenValues.Add(("token", lease.Token));
            forbiddenValues.AddRange(lease.Token.Split('.').Where(part => part.Length >= 8).Select(part => ("token part", part)));
        }

        foreach (var method in new[] { "Target.attachToTarget", "Page.navigate", "Fail.method" })
        {
            forbiddenValues.Add(("CDP method", method));
        }

        Assert.Contains(metrics.Samples, s => s.Labels.ContainsKey("cdp_domain"));
        foreach (var sample in metrics.Samples)
        {
            foreach (var (name, value) in sample.Labels)
            {
                Assert.False(forbiddenNames.Any(f => name == f || name.StartsWith(f + "_", StringComparison.Ordinal)),
                    $"label {name} on {sample.Key}");
                foreach (var (what, forbidden) in forbiddenValues)
                {
                    Assert.False(value.Contains(forbidden, StringComparison.OrdinalIgnoreCase), $"{what} in {sample.Key}");
                }

                // An attach id is a small number: it must not be a label value of the relay's own series, where only
                // bucket bounds and close codes are numbers.
                if (sample.Name.StartsWith("bctrl_", StringComparison.Ordinal) && name is not "le" and not "code")
                {
                    Assert.DoesNotContain(value, attachIds.Select(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                }
            }
        }

        // The domain label takes its values from a closed set, so unknown methods are "other".
        Assert.All(metrics.Samples.Where(s => s.Labels.ContainsKey("cdp_domain")), s => Assert.Contains(s.Labels["cdp_domain"], CdpDomains.All));
        Assert.NotNull(metrics.Sum("bctrl_relay_cdp_command_duration_seconds_count", ("cdp_domain", "other")));
        Assert.DoesNotContain(RelayServer.ControlKey, metrics.Text, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_parser_refuses_what_is_not_Prometheus_text()
    {
        // The parser is the oracle of the tests above: it must be able to say no.
        await Task.Yield();
        const string Good = "# HELP a_total A counter.\n# TYPE a_total counter\na_total{x=\"1\"} 3 1700000000000\n";
        Assert.Equal(3, PrometheusText.Parse(Good).Sum("a_total"));
        foreach (var bad in new[]
        {
            "a_total 3\n", // no TYPE
            "# TYPE a_total counter\na_total{x=\"1\"} three\n",
            "# TYPE a_total counter\na_total{x=1} 3\n",
            "# TYPE a_total counter\na_total{x=\"1\"} 3\na_total{x=\"1\"} 4\n",
            "# TYPE a_total counter\n# TYPE a_total counter\na_total 3\n",
            "# TYPE a_total countr\na_total 3\n",
            "# TYPE a_total counter\na_total 3",
            "# TYPE a_total counter\na total 3\n",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"+Inf\"} 4\nh_sum 1\nh_count 4\n",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
            "# TYPE a_total counter\na_total{x=\"bad\\escape\"} 3\n",
        })
        {
            Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => PrometheusText.Parse(bad));
        }
    }

    private static async Task RoundTripsAsync(RawClient client, int from, int to)
    {
        for (var id = from; id <= to; id++)
        {
            await client.SendRawAsync(ObservationRig.Command(id, id % 2 == 0 ? "Page.navigate" : "Runtime.evaluate", """{"x":1}"""));
            await client.ReadFrameSkippingPingsAsync();
            await client.ReadFrameSkippingPingsAsync();
        }
    }

    private static async Task RefusedAsync(Uri endpoint)
    {
        await using var refused = await RawClient.ConnectAsync(endpoint);
        await refused.SendUpgradeAsync();
        var response = await refused.ReadResponseAsync();
        Assert.Equal(401, response.Status);
        Assert.DoesNotContain(endpoint.Segments[^1], response.Body, StringComparison.Ordinal);
    }
}
