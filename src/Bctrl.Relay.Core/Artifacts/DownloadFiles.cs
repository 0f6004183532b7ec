namespace Bctrl.Relay.Artifacts;

/// <summary>
/// Finds a finished download's file on this host (docs/artifacts.md, "Downloads"): only inside the directories the
/// operator listed (<c>Relay:Artifacts:DownloadDirectories</c>), never through a symbolic link, only a seekable
/// (regular) file, and at most <c>MaxBytes</c> of it. The path comes from the runtime's event (<c>filePath</c>) or is
/// the runtime's naming in a listed directory (the download's guid): both are the runtime's words, so each is checked,
/// not trusted.
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
    public async Task<(byte[]? Content, string? Loss)> ReadAsync(DownloadEvent finished, CancellationToken cancellationToken)
    {
        foreach (var path in Candidates(finished))
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

    /// <summary>
    /// The path the event gives, alone when it gives one; else the download's guid in each listed directory (what
    /// <c>"allowAndName"</c> names it). Never the suggested name: the page chooses it, and in a directory several
    /// runtimes share it could name another's download.
    /// </summary>
    private IEnumerable<string> Candidates(DownloadEvent finished)
    {
        if (_roots.Length == 0)
        {
            yield break;
        }

        if (!string.IsNullOrEmpty(finished.FilePath))
        {
            if (Path.IsPathFullyQualified(finished.FilePath))
            {
                yield return Path.GetFullPath(finished.FilePath);
            }

            yield break;
        }

        if (System.Guid.TryParse(finished.Guid, out _))
        {
            foreach (var root in _roots)
            {
                yield return Path.Combine(root, finished.Guid);
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
