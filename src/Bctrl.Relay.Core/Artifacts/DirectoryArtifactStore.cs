using System.Text.Json;
using Bctrl.Relay.Observation;

namespace Bctrl.Relay.Artifacts;

/// <summary>
/// Artifacts as files under one root, a directory per runtime: <c>{root}/{runtime}/{key}.json</c> (the record) and
/// <c>{key}.bin</c> (the bytes), where the key, creation ticks and id, sorts oldest first. Runtime and artifact ids are
/// path-safe (the control API checks them), so no name from outside the relay becomes a path. The bytes are written
/// before the record, so a listed artifact always has them. Nodes that share the volume share the artifacts.
/// </summary>
internal sealed class DirectoryArtifactStore(string root, int perRuntime, TimeSpan retention, TimeProvider time) : IArtifactStore
{
    public async ValueTask SaveAsync(ArtifactRecord record, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(root, record.RuntimeId);
        Directory.CreateDirectory(directory);
        var key = Key(record);
        await File.WriteAllBytesAsync(Path.Combine(directory, key + ".bin"), content, cancellationToken).ConfigureAwait(false);
        var temporary = Path.Combine(directory, key + ".json.tmp");
        await File.WriteAllBytesAsync(temporary, JsonSerializer.SerializeToUtf8Bytes(record, ObservationJson.Default.ArtifactRecord), cancellationToken).ConfigureAwait(false);
        File.Move(temporary, Path.Combine(directory, key + ".json"), overwrite: true);
        Trim(directory);
    }

    public async ValueTask<IReadOnlyList<ArtifactRecord>> ListAsync(string runtimeId, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(root, runtimeId);
        var records = new List<ArtifactRecord>();
        foreach (var file in Records(directory))
        {
            if (await ReadRecordAsync(file, cancellationToken).ConfigureAwait(false) is { } record && record.RuntimeId == runtimeId && Kept(record))
            {
                records.Add(record);
            }
        }

        return records;
    }

    public async ValueTask<StoredArtifact?> GetAsync(string runtimeId, string artifactId, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(root, runtimeId);
        foreach (var file in Records(directory))
        {
            if (!Path.GetFileName(file).EndsWith("." + artifactId + ".json", StringComparison.Ordinal))
            {
                continue;
            }

            if (await ReadRecordAsync(file, cancellationToken).ConfigureAwait(false) is not { } record || record.RuntimeId != runtimeId || !Kept(record))
            {
                return null;
            }

            try
            {
                var content = await File.ReadAllBytesAsync(Path.ChangeExtension(file, ".bin"), cancellationToken).ConfigureAwait(false);
                return new StoredArtifact(record, content);
            }
            catch (FileNotFoundException)
            {
                return null; // trimmed by another node meanwhile
            }
        }

        return null;
    }

    /// <summary>Within retention: an artifact past it is gone even before the next save trims its files.</summary>
    private bool Kept(ArtifactRecord record) => record.CreatedAt >= time.GetUtcNow() - retention;

    /// <summary>Creation ticks (19 digits) and id: file names sort oldest first.</summary>
    private static string Key(ArtifactRecord record) => $"{record.CreatedAt.UtcTicks:D19}.{record.Id}";

    private static string[] Records(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }

        var files = Directory.GetFiles(directory, "*.json");
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    private static async Task<ArtifactRecord?> ReadRecordAsync(string file, CancellationToken cancellationToken)
    {
        try
        {
            return JsonSerializer.Deserialize(await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false), ObservationJson.Default.ArtifactRecord);
        }
        catch (Exception exception) when (exception is IOException or JsonException)
        {
            return null; // trimmed meanwhile, or not ours
        }
    }

    /// <summary>Drops the runtime's artifacts past retention and beyond its count, oldest first.</summary>
    private void Trim(string directory)
    {
        var files = Records(directory);
        var oldestTicks = (time.GetUtcNow() - retention).UtcTicks;
        for (var i = 0; i < files.Length; i++)
        {
            var name = Path.GetFileName(files[i]);
            var expired = name.Length > 19 && long.TryParse(name.AsSpan(0, 19), out var ticks) && ticks < oldestTicks;
            if (!expired && files.Length - i <= perRuntime)
            {
                break;
            }

            File.Delete(files[i]);
            File.Delete(Path.ChangeExtension(files[i], ".bin"));
        }
    }
}
