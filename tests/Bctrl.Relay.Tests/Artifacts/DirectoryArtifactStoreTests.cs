using System.Text.Json;
using Bctrl.Relay.Artifacts;
using Bctrl.Relay.Observation;
using Microsoft.Extensions.Time.Testing;

namespace Bctrl.Relay.Tests.Artifacts;

/// <summary>
/// <see cref="DirectoryArtifactStore"/> (docs/artifacts.md, "Where artifacts are kept"): <c>{root}/{runtime}/{key}.json</c>
/// and <c>.bin</c>, listed oldest first, at most <c>PerRuntime</c> per runtime and none past <c>Retention</c>; a file
/// that is not a record it wrote is passed over, never an error.
/// </summary>
public sealed class DirectoryArtifactStoreTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly TimeSpan Retention = TimeSpan.FromHours(1);

    private readonly string _root = Directory.CreateTempSubdirectory("relay-artifact-store-").FullName;
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact(Timeout = 10_000)]
    public async Task What_is_saved_is_listed_and_got_back_as_it_was()
    {
        var store = NewStore();
        var first = await Save(store, "rt-a", 1, size: 3000);
        _time.Advance(TimeSpan.FromSeconds(1));
        var second = await Save(store, "rt-a", 2);
        var other = await Save(store, "rt-b", 3);

        Assert.Equal([first, second], await store.ListAsync("rt-a", CancellationToken.None));
        Assert.Equal([other], await store.ListAsync("rt-b", CancellationToken.None));

        var stored = await store.GetAsync("rt-a", first.Id, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(first, stored.Record);
        Assert.Equal(ArtifactRecords.ContentOf(1, 3000), stored.Content.ToArray());

        // Another store on the same directory (another node on the shared volume) sees the same.
        var elsewhere = NewStore();
        Assert.Equal([first, second], await elsewhere.ListAsync("rt-a", CancellationToken.None));
        Assert.Equal(ArtifactRecords.ContentOf(2), (await elsewhere.GetAsync("rt-a", second.Id, CancellationToken.None))!.Content.ToArray());
    }

    [Fact(Timeout = 10_000)]
    public async Task Artifacts_are_listed_by_creation_time_whatever_the_order_they_were_saved_in()
    {
        var store = NewStore();
        var later = ArtifactRecords.Of("rt-a", 1, Start.AddSeconds(5));
        var earlier = ArtifactRecords.Of("rt-a", 2, Start.AddSeconds(1));
        await store.SaveAsync(later, ArtifactRecords.ContentOf(1), CancellationToken.None);
        await store.SaveAsync(earlier, ArtifactRecords.ContentOf(2), CancellationToken.None);

        Assert.Equal([earlier, later], await store.ListAsync("rt-a", CancellationToken.None));
    }

    [Fact(Timeout = 10_000)]
    public async Task An_unknown_id_or_runtime_gives_nothing()
    {
        var store = NewStore();
        var record = await Save(store, "rt-a", 1);

        Assert.Null(await store.GetAsync("rt-a", ArtifactRecords.Of("rt-a", 2, Start).Id, CancellationToken.None));
        Assert.Null(await store.GetAsync("rt-b", record.Id, CancellationToken.None));
        Assert.Empty(await store.ListAsync("rt-b", CancellationToken.None));
    }

    [Fact(Timeout = 10_000)]
    public async Task Each_runtime_keeps_its_newest_up_to_its_count_with_their_files()
    {
        var store = NewStore(perRuntime: 3);
        await Save(store, "rt-b", 100);
        for (var n = 1; n <= 5; n++)
        {
            await Save(store, "rt-a", n);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal([3, 4, 5], (await store.ListAsync("rt-a", CancellationToken.None)).Select(r => (int)r.CommandId!.Value));
        Assert.Equal([100], (await store.ListAsync("rt-b", CancellationToken.None)).Select(r => (int)r.CommandId!.Value));
        Assert.Null(await store.GetAsync("rt-a", ArtifactRecords.Of("rt-a", 1, Start).Id, CancellationToken.None));

        // What is trimmed leaves no file behind: three records and three contents.
        var files = Directory.GetFiles(Path.Combine(_root, "rt-a"));
        Assert.Equal(3, files.Count(f => f.EndsWith(".json", StringComparison.Ordinal)));
        Assert.Equal(3, files.Count(f => f.EndsWith(".bin", StringComparison.Ordinal)));
        Assert.Equal(6, files.Length);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_save_drops_the_runtime_s_artifacts_past_retention()
    {
        var store = NewStore();
        await Save(store, "rt-a", 1);
        _time.Advance(TimeSpan.FromMinutes(30));
        await Save(store, "rt-a", 2);
        _time.Advance(TimeSpan.FromMinutes(31));

        await Save(store, "rt-a", 3);

        Assert.Equal([2, 3], (await store.ListAsync("rt-a", CancellationToken.None)).Select(r => (int)r.CommandId!.Value));
        Assert.Equal(4, Directory.GetFiles(Path.Combine(_root, "rt-a")).Length);
    }

    [Fact(Timeout = 10_000)]
    public async Task An_artifact_past_retention_is_neither_listed_nor_got_even_with_no_save_since()
    {
        // docs/artifacts.md: each store keeps "none past Relay:Artifacts:Retention", and artifact_not_found answers an
        // artifact "dropped by retention". The memory store trims when listing and getting; Redis expires the hash.
        var store = NewStore();
        var record = await Save(store, "rt-a", 1);

        _time.Advance(Retention + TimeSpan.FromMinutes(1));

        Assert.Empty(await store.ListAsync("rt-a", CancellationToken.None));
        Assert.Null(await store.GetAsync("rt-a", record.Id, CancellationToken.None));
    }

    [Fact(Timeout = 10_000)]
    public async Task Files_that_are_not_its_records_are_passed_over()
    {
        var store = NewStore();
        var good = await Save(store, "rt-a", 1);
        var directory = Path.Combine(_root, "rt-a");
        var corrupt = ArtifactRecords.Of("rt-a", 2, Start);
        var foreign = ArtifactRecords.Of("rt-b", 3, Start); // a record of another runtime, in this one's directory
        await File.WriteAllTextAsync(Path.Combine(directory, $"{Start.UtcTicks:D19}.{corrupt.Id}.json"), """{"id":"trunc""");
        await File.WriteAllBytesAsync(Path.Combine(directory, $"{Start.UtcTicks:D19}.{corrupt.Id}.bin"), [1, 2, 3]);
        await File.WriteAllTextAsync(Path.Combine(directory, "0000000000000000001.null.json"), "null");
        await File.WriteAllTextAsync(Path.Combine(directory, "0000000000000000002.missing-fields.json"), """{"id":"x"}""");
        await File.WriteAllTextAsync(Path.Combine(directory, $"{Start.UtcTicks:D19}.{foreign.Id}.json"), JsonSerializer.Serialize(foreign, ObservationJson.Default.ArtifactRecord));
        await File.WriteAllBytesAsync(Path.Combine(directory, $"{Start.UtcTicks:D19}.{foreign.Id}.bin"), [4]);
        await File.WriteAllTextAsync(Path.Combine(directory, "notes.txt"), "not a record");

        Assert.Equal([good], await store.ListAsync("rt-a", CancellationToken.None));
        Assert.Null(await store.GetAsync("rt-a", corrupt.Id, CancellationToken.None));
        Assert.Null(await store.GetAsync("rt-a", foreign.Id, CancellationToken.None));
        Assert.NotNull(await store.GetAsync("rt-a", good.Id, CancellationToken.None));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_record_whose_bytes_are_gone_is_not_got()
    {
        // Trimmed by another node between the listing and the read.
        var store = NewStore();
        var record = await Save(store, "rt-a", 1);
        File.Delete(Assert.Single(Directory.GetFiles(Path.Combine(_root, "rt-a"), "*.bin")));

        Assert.Null(await store.GetAsync("rt-a", record.Id, CancellationToken.None));
    }

    private DirectoryArtifactStore NewStore(int perRuntime = 1000) => new(_root, perRuntime, Retention, _time);

    private async Task<ArtifactRecord> Save(DirectoryArtifactStore store, string runtimeId, int n, int size = 10)
    {
        var record = ArtifactRecords.Of(runtimeId, n, _time.GetUtcNow(), size);
        await store.SaveAsync(record, ArtifactRecords.ContentOf(n, size), CancellationToken.None);
        return record;
    }
}
