using Xunit.Abstractions;

namespace Bctrl.Relay.FunctionalTests.Discovery;

/// <summary>
/// Issue 8, finding 5: a 64 MB <c>/json/list</c> cost about 450 MiB of relay memory per request (parsed whole into a
/// JsonNode). It is now refused at the 8 MiB cap, and what the request allocates stays small whatever the document's
/// size. Allocation is counted process-wide, so these tests run alone.
/// </summary>
[Collection(DiscoveryMemoryCollection.Name)]
public sealed class DiscoveryMemoryTests(ITestOutputHelper output)
{
    private const long DocumentBytes = 64L * 1024 * 1024;
    private const long AllocationBound = 32L * 1024 * 1024;

    /// <summary>
    /// Announced with its length: refused from the headers, 502. Sent chunked: the rewrite streams, so its first
    /// 64 KiB are on their way when the cap is passed, and the relay aborts the response.
    /// </summary>
    [Theory(Timeout = 120_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_64_MB_list_is_refused_and_allocates_little(bool chunked)
    {
        var block = HostileDocuments.PageBlock(9222);
        var repeat = DocumentBytes / (block.Length + 1);
        await using var runtime = new ScriptedHttpRuntime((path, stream, ct) => ScriptedHttpRuntime.RepeatedAsync(
            stream, "[", block, repeat, "]", chunked, 2 + (repeat * block.Length) + (repeat - 1), ct));
        var (relay, token) = await HostileDocuments.LeaseAsync(runtime);
        await using var _ = relay;
        using var client = new HttpClient { BaseAddress = relay.BaseUrl, Timeout = TimeSpan.FromSeconds(100) };
        var buffer = new byte[64 * 1024];
        await DrainAsync(client, token, buffer); // warm: first-request costs (JIT, pools) are not the document's
        GC.Collect();

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var (status, received, broken) = await DrainAsync(client, token, buffer);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        output.WriteLine($"status {status}, {received} bytes received, broken off: {broken}, allocated {allocated / 1024} KiB");
        Assert.True(allocated < AllocationBound, $"the request allocated {allocated / (1024 * 1024)} MiB (status {status}, {received} bytes received)");
        if (chunked)
        {
            Assert.Equal(200, status);
            Assert.True(broken, $"a chunked 64 MB list ended normally after {received} bytes");
            // Each URL grows by the lease's token, so the 8 MiB read before the cap come out as about 13 MB.
            Assert.True(received < 16L * 1024 * 1024, $"{received} bytes received");
        }
        else
        {
            Assert.Equal(502, status);
            Assert.False(broken);
        }
    }

    /// <summary>Reads the whole answer into one reused buffer; says whether it was broken off.</summary>
    private static async Task<(int Status, long Received, bool Broken)> DrainAsync(HttpClient client, string token, byte[] buffer)
    {
        using var response = await client.GetAsync($"cdp/{token}/json/list", HttpCompletionOption.ResponseHeadersRead);
        var received = 0L;
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                received += read;
            }

            return ((int)response.StatusCode, received, false);
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException)
        {
            return ((int)response.StatusCode, received, true);
        }
    }
}

/// <summary>Tests that count the process's allocations run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DiscoveryMemoryCollection
{
    public const string Name = "Discovery memory, alone";
}
