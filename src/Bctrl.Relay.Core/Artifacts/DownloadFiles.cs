namespace Bctrl.Relay.Artifacts;

/// <summary>
/// Finds a finished download's file on this host (docs/artifacts.md, "Downloads"): only inside the directories the
/// operator listed (<c>Relay:Artifacts:DownloadDirectories</c>), never through a symbolic link, only a regular file,
/// and at most <c>MaxBytes</c> of it. The path comes from the runtime's event (<c>filePath</c>) or is the runtime's
/// naming in a listed directory (the download's guid, or its suggested name): both are the runtime's words, so each is
/// checked, not trusted.
/// </summary>
internal sealed class DownloadFiles
{
    private readonly string[] _roots;
    private readonly int _maxBytes;

    public DownloadFiles(IEnumerable<string> directories, int maxBytes)
    {
        _roots = [.. directories.Select(d => Path.TrimEndingDirectorySeparator(Path.GetFullPath(d)))];
        _maxBytes = maxBytes;
    }

    /// <summary>The file's bytes, or null with the loss reason (<see cref="ArtifactLoss"/>).</summary>
    public async Task<(byte[]? Content, string? Loss)> ReadAsync(DownloadEvent finished, string? suggestedName, CancellationToken cancellationToken)
    {
        foreach (var path in Candidates(finished, suggestedName))
        {
            if (!IsReadable(path, out var length))
            {
                continue;
            }

            if (length > _maxBytes)
            {
                return (null, ArtifactLoss.TooLarge);
            }

            try
            {
                await using var file = NoFollowFile.OpenRegular(path);
                if (file is null)
                {
                    continue;
                }

                // At most one byte past the cap: a file that grew since its length was read is refused, not cut.
                var content = new byte[Math.Min(file.Length, _maxBytes + 1L)];
                var read = await file.ReadAtLeastAsync(content, content.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                return read > _maxBytes ? (null, ArtifactLoss.TooLarge) : (content.AsSpan(0, read).ToArray(), null);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                continue;
            }
        }

        return (null, ArtifactLoss.DownloadUnreachable);
    }

    private IEnumerable<string> Candidates(DownloadEvent finished, string? suggestedName)
    {
        if (_roots.Length == 0)
        {
            yield break;
        }

        if (!string.IsNullOrEmpty(finished.FilePath) && Path.IsPathFullyQualified(finished.FilePath))
        {
            yield return Path.GetFullPath(finished.FilePath);
        }

        // "allowAndName" names the file by its guid; "allow" by its suggested name.
        var names = new List<string>(2);
        if (System.Guid.TryParse(finished.Guid, out _))
        {
            names.Add(finished.Guid);
        }

        if (suggestedName is { Length: > 0 } && Path.GetFileName(suggestedName) == suggestedName && suggestedName is not ("." or "..") && !suggestedName.Contains('\0'))
        {
            names.Add(suggestedName);
        }

        foreach (var root in _roots)
        {
            foreach (var name in names)
            {
                yield return Path.Combine(root, name);
            }
        }
    }

    /// <summary>A regular file under a listed root, reached through no symbolic link.</summary>
    private bool IsReadable(string path, out long length)
    {
        length = 0;
        var root = _roots.FirstOrDefault(r => path.StartsWith(Path.EndsInDirectorySeparator(r) ? r : r + Path.DirectorySeparatorChar, StringComparison.Ordinal));
        if (root is null)
        {
            return false;
        }

        try
        {
            var file = new FileInfo(path);
            if (!file.Exists || file.LinkTarget is not null || (file.Attributes & (FileAttributes.Directory | FileAttributes.Device)) != 0)
            {
                return false;
            }

            for (var directory = file.Directory; directory is not null && directory.FullName.Length > root.Length; directory = directory.Parent)
            {
                if (directory.LinkTarget is not null)
                {
                    return false;
                }
            }

            length = file.Length;
            return true;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
