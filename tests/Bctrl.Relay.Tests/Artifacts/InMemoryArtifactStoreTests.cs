using Bctrl.Relay.Artifacts;
using Microsoft.Extensions.Time.Testing;

namespace Bctrl.Relay.Tests.Artifacts;

/// <summary>
/// <see cref="InMemoryArtifactStore"/>, the embedded default (docs/artifacts.md, "Where artifacts are kept"): one list,
/// oldest first, bounded by count per runtime, by bytes over all runtimes, and by age on the injected clock.
/// </summary>
public sealed class InMemoryArtifactStoreTests
{
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly TimeSpan Retention = TimeSpan.FromHours(1);

    private readonly FakeTimeProvider _time = new(Start);

    [Fact(Timeout = 10_000)]
    public async Task A_runtime_s_artifacts_are_listed_oldest_first_and_only_its_own()
    {
        var store = NewStore();
        for (var n = 1; n <= 4; n++)
        {
            await Save(store, n % 2 == 0 ? "rt-b" : "rt-a", n);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal([1, 3], (await store.ListAsync("rt-a", CancellationToken.None)).Select(r => (int)r.CommandId!.Value));
        Assert.Equal([2, 4], (await store.ListAsync("rt-b", CancellationToken.None)).Select(r => (int)r.CommandId!.Value));
        Assert.Empty(await store.ListAsync("rt-c", CancellationToken.None));
    }

    [Fact(Timeout = 10_000)]
    public async Task An_artifact_is_got_with_its_bytes_only_under_its_own_runtime()
    {
        var store = NewStore();
        var record = await Save(store, "rt-a", 7);

        var stored = await store.GetAsync("rt-a", record.Id, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(record, stored.Record);
        Assert.Equal(ArtifactRecords.ContentOf(7), stored.Content.ToArray());

        Assert.Null(await store.GetAsync("rt-b", record.Id, CancellationToken.None));
        Assert.Null(await store.GetAsync("rt-a", ArtifactRecords.Of("rt-a", 8, Start).Id, CancellationToken.None));
    }

    [Fact(Timeout = 10_000)]
    public async Task Each_runtime_keeps_its_newest_up_to_its_count_and_no_other_runtime_pays_for_it()
    {
        var store = NewStore(perRuntime: 3);
        await Save(store, "rt-b", 100);
        await Save(store, "rt-b", 101);
        for (var n = 1; n <= 5; n++)
        {
            await Save(store, "rt-a", n);
        }

        Assert.Equal([3, 4, 5], (await store.ListAsync("rt-a", CancellationToken.None)).Select(r => (int)r.CommandId!.Value));
        Assert.Equal([100, 101], (await store.ListAsync("rt-b", CancellationToken.None)).Select(r => (int)r.CommandId!.Value));
        Assert.Null(await store.GetAsync("rt-a", ArtifactRecords.Of("rt-a", 1, Start).Id, CancellationToken.None));
        Assert.Equal(5 * 10, store.Bytes);
    }

    [Fact(Timeout = 10_000)]
    public async Task Over_the_byte_bound_the_oldest_go_first_whatever_their_runtime()
    {
        var store = NewStore(maxBytes: 100);
        await Save(store, "rt-a", 1, size: 40);
        await Save(store, "rt-b", 2, size: 40);
        Assert.Equal(80, store.Bytes);

        await Save(store, "rt-a", 3, size: 40); // 120 bytes: rt-a's first goes

        Assert.Equal(80, store.Bytes);
        Assert.Equal([3], (await store.ListAsync("rt-a", CancellationToken.None)).Select(r => (int)r.CommandId!.Value));
        Assert.Equal([2], (await store.ListAsync("rt-b", CancellationToken.None)).Select(r => (int)r.CommandId!.Value));

        await Save(store, "rt-c", 4, size: 100); // room for it alone

        Assert.Equal(100, store.Bytes);
        Assert.Empty(await store.ListAsync("rt-a", CancellationToken.None));
        Assert.Empty(await store.ListAsync("rt-b", CancellationToken.None));
        Assert.Equal([4], (await store.ListAsync("rt-c", CancellationToken.None)).Select(r => (int)r.CommandId!.Value));
    }

    [Fact(Timeout = 10_000)]
    public async Task Artifacts_past_retention_are_neither_listed_nor_got()
    {
        var store = NewStore();
        var first = await Save(store, "rt-a", 1);
        _time.Advance(TimeSpan.FromMinutes(30));
        var second = await Save(store, "rt-b", 2);

        _time.Advance(TimeSpan.FromMinutes(30)); // the first is exactly as old as retention: still kept
        Assert.Single(await store.ListAsync("rt-a", CancellationToken.None));

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Empty(await store.ListAsync("rt-a", CancellationToken.None));
        Assert.Null(await store.GetAsync("rt-a", first.Id, CancellationToken.None));
        Assert.NotNull(await store.GetAsync("rt-b", second.Id, CancellationToken.None));
        Assert.Equal(10, store.Bytes);

        _time.Advance(TimeSpan.FromMinutes(30));
        Assert.Empty(await store.ListAsync("rt-b", CancellationToken.None));
        Assert.Equal(0, store.Bytes);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_runtime_dropped_whole_can_store_again()
    {
        // The per-runtime count must not remember a runtime whose artifacts all went.
        var store = NewStore(perRuntime: 2);
        await Save(store, "rt-a", 1);
        await Save(store, "rt-a", 2);
        _time.Advance(Retention + TimeSpan.FromSeconds(1));
        Assert.Empty(await store.ListAsync("rt-a", CancellationToken.None));

        await Save(store, "rt-a", 3);
        await Save(store, "rt-a", 4);

        Assert.Equal([3, 4], (await store.ListAsync("rt-a", CancellationToken.None)).Select(r => (int)r.CommandId!.Value));
    }

    private InMemoryArtifactStore NewStore(int perRuntime = 1000, long maxBytes = 1024 * 1024)
        => new(perRuntime, maxBytes, Retention, _time);

    private async Task<ArtifactRecord> Save(InMemoryArtifactStore store, string runtimeId, int n, int size = 10)
    {
        var record = ArtifactRecords.Of(runtimeId, n, _time.GetUtcNow(), size);
        await store.SaveAsync(record, ArtifactRecords.ContentOf(n, size), CancellationToken.None);
        return record;
    }
}
