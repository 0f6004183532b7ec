using Bctrl.Relay.Observation;

namespace Bctrl.Relay.Tests.Observation;

/// <summary>
/// <see cref="InMemoryEventStore"/>: the embedded default's ring per runtime, the store the SSE endpoint reads and
/// resumes from (<c>Last-Event-ID</c>).
/// </summary>
public sealed class InMemoryEventStoreTests
{
    private static readonly Guid ConnectionId = Guid.Parse("0b8f4a7e-9a55-4a3e-b0d1-6c2f0e8d7a41");

    [Fact(Timeout = 10_000)]
    public async Task Records_come_back_in_order_with_ids_counting_up_from_1()
    {
        var store = new InMemoryEventStore(100);
        var records = Enumerable.Range(0, 10).Select(i => Record("a", i)).ToArray();

        await store.AppendAsync(records[..4], CancellationToken.None);
        await store.AppendAsync(records[4..], CancellationToken.None);
        var read = await store.ReadAsync("a", null, 100, CancellationToken.None);

        Assert.Equal(Enumerable.Range(1, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), read.Select(r => r.Id));
        Assert.Equal(records, read.Select(r => r.Record));
    }

    [Fact(Timeout = 10_000)]
    public async Task Each_runtime_has_its_own_ring_and_ids_even_within_one_batch()
    {
        var store = new InMemoryEventStore(100);

        await store.AppendAsync([Record("a", 0), Record("b", 1), Record("a", 2), Record("b", 3), Record("a", 4)], CancellationToken.None);

        var a = await store.ReadAsync("a", null, 100, CancellationToken.None);
        var b = await store.ReadAsync("b", null, 100, CancellationToken.None);
        Assert.Equal(["1", "2", "3"], a.Select(r => r.Id));
        Assert.Equal([0L, 2L, 4L], a.Select(r => r.Record.AttachId));
        Assert.Equal(["1", "2"], b.Select(r => r.Id));
        Assert.Equal([1L, 3L], b.Select(r => r.Record.AttachId));
        Assert.Empty(await store.ReadAsync("c", null, 100, CancellationToken.None));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_full_ring_keeps_the_newest_records_in_order()
    {
        var store = new InMemoryEventStore(4);

        // One at a time, then a batch larger than the ring: both wrap.
        for (var i = 0; i < 6; i++)
        {
            await store.AppendAsync([Record("a", i)], CancellationToken.None);
        }

        var afterSingles = await store.ReadAsync("a", null, 100, CancellationToken.None);
        await store.AppendAsync(Enumerable.Range(6, 9).Select(i => Record("a", i)).ToArray(), CancellationToken.None);
        var afterBatch = await store.ReadAsync("a", null, 100, CancellationToken.None);

        Assert.Equal(["3", "4", "5", "6"], afterSingles.Select(r => r.Id));
        Assert.Equal([2L, 3L, 4L, 5L], afterSingles.Select(r => r.Record.AttachId));
        Assert.Equal(["12", "13", "14", "15"], afterBatch.Select(r => r.Id));
        Assert.Equal([11L, 12L, 13L, 14L], afterBatch.Select(r => r.Record.AttachId));
    }

    [Theory(Timeout = 10_000)]
    [InlineData(null, 100, "7,8,9,10")] // from the oldest kept
    [InlineData("8", 100, "9,10")]
    [InlineData("7", 1, "8")]
    [InlineData("10", 100, "")] // nothing newer yet
    [InlineData("2", 100, "7,8,9,10")] // evicted: from the oldest kept
    [InlineData("6", 2, "7,8")]
    [InlineData(null, 0, "")]
    public async Task ReadAsync_returns_up_to_max_records_after_an_id(string? after, int max, string expected)
    {
        var store = new InMemoryEventStore(4);
        await store.AppendAsync(Enumerable.Range(0, 10).Select(i => Record("a", i)).ToArray(), CancellationToken.None);

        var read = await store.ReadAsync("a", after, max, CancellationToken.None);

        Assert.Equal(expected, string.Join(',', read.Select(r => r.Id)));
        Assert.All(read, r => Assert.Equal(long.Parse(r.Id, System.Globalization.CultureInfo.InvariantCulture) - 1, r.Record.AttachId));
    }

    [Fact(Timeout = 10_000)]
    public async Task Paging_with_the_last_id_read_visits_every_record_once()
    {
        var store = new InMemoryEventStore(1000);
        await store.AppendAsync(Enumerable.Range(0, 250).Select(i => Record("a", i)).ToArray(), CancellationToken.None);

        var seen = new List<long>();
        string? after = null;
        while ((await store.ReadAsync("a", after, 7, CancellationToken.None)) is { Count: > 0 } page)
        {
            seen.AddRange(page.Select(r => r.Record.AttachId));
            after = page[^1].Id;
        }

        Assert.Equal(Enumerable.Range(0, 250).Select(i => (long)i), seen);
    }

    [Fact(Timeout = 10_000)]
    public async Task WaitAsync_returns_at_once_when_a_newer_record_exists()
    {
        var store = new InMemoryEventStore(10);
        await store.AppendAsync([Record("a", 0), Record("a", 1)], CancellationToken.None);

        var wait = store.WaitAsync("a", "1", TimeSpan.FromSeconds(30), CancellationToken.None);
        var fromStart = store.WaitAsync("a", null, TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.True(wait.IsCompletedSuccessfully);
        Assert.True(fromStart.IsCompletedSuccessfully);
        await wait;
    }

    [Fact(Timeout = 10_000)]
    public async Task WaitAsync_wakes_up_when_a_record_is_appended_to_its_runtime_only()
    {
        var store = new InMemoryEventStore(10);
        await store.AppendAsync([Record("a", 0)], CancellationToken.None);

        var wait = store.WaitAsync("a", "1", TimeSpan.FromSeconds(30), CancellationToken.None);
        var never = store.WaitAsync("a", "1", TimeSpan.FromSeconds(30), CancellationToken.None);
        var fresh = store.WaitAsync("new-runtime", null, TimeSpan.FromSeconds(30), CancellationToken.None);
        await Task.Delay(50);
        Assert.False(wait.IsCompleted);
        Assert.False(fresh.IsCompleted);

        await store.AppendAsync([Record("b", 1)], CancellationToken.None);
        await Task.Delay(50);
        Assert.False(wait.IsCompleted, "a record of another runtime woke the wait");

        await store.AppendAsync([Record("a", 2)], CancellationToken.None);
        await wait.WaitAsync(TimeSpan.FromSeconds(5));
        await never.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(["2"], (await store.ReadAsync("a", "1", 10, CancellationToken.None)).Select(r => r.Id));

        await store.AppendAsync([Record("new-runtime", 3)], CancellationToken.None);
        await fresh.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact(Timeout = 10_000)]
    public async Task WaitAsync_returns_without_error_when_the_timeout_passes()
    {
        var store = new InMemoryEventStore(10);
        var started = System.Diagnostics.Stopwatch.StartNew();

        await store.WaitAsync("a", null, TimeSpan.FromMilliseconds(200), CancellationToken.None);

        Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(5));
        Assert.Empty(await store.ReadAsync("a", null, 10, CancellationToken.None));
    }

    [Fact(Timeout = 10_000)]
    public async Task WaitAsync_ends_with_cancellation()
    {
        var store = new InMemoryEventStore(10);
        using var cancellation = new CancellationTokenSource();

        var wait = store.WaitAsync("a", null, TimeSpan.FromSeconds(30), cancellation.Token);
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_waiter_that_read_before_an_append_does_not_miss_it()
    {
        // The SSE loop reads, finds nothing, then waits: an append between the two must still wake it.
        var store = new InMemoryEventStore(10);
        var read = await store.ReadAsync("a", null, 10, CancellationToken.None);
        Assert.Empty(read);

        await store.AppendAsync([Record("a", 0)], CancellationToken.None);
        var wait = store.WaitAsync("a", null, TimeSpan.FromSeconds(30), CancellationToken.None);

        await wait.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact(Timeout = 30_000)]
    public async Task Concurrent_appends_get_unique_contiguous_ids()
    {
        var store = new InMemoryEventStore(100_000);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; i < 1000; i++)
            {
                await store.AppendAsync([Record("a", (writer * 1000) + i), Record("a", -1)], CancellationToken.None);
            }
        })));

        var read = await store.ReadAsync("a", null, 100_000, CancellationToken.None);
        Assert.Equal(16_000, read.Count);
        Assert.Equal(Enumerable.Range(1, 16_000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), read.Select(r => r.Id));
        Assert.Equal(8000, read.Select(r => r.Record.AttachId).Where(id => id >= 0).Distinct().Count());

        // A batch stays together: each record of a writer is followed by that batch's second record.
        for (var i = 0; i < read.Count; i += 2)
        {
            Assert.True(read[i].Record.AttachId >= 0 && read[i + 1].Record.AttachId == -1, $"batch split at id {read[i].Id}");
        }
    }

    private static ObservationRecord Record(string runtimeId, long marker) => new()
    {
        Type = RecordTypes.CdpEvent,
        Time = DateTimeOffset.UnixEpoch,
        RuntimeId = runtimeId,
        ConnectionId = ConnectionId,
        AttachId = marker,
        Method = "Page.loadEventFired",
    };
}
