using System.Runtime.InteropServices;
using System.Text;
using Bctrl.Relay.Artifacts;

namespace Bctrl.Relay.Tests.Artifacts;

/// <summary>
/// <see cref="DownloadFiles"/> (docs/artifacts.md, "Downloads"): a finished download is read only from inside a listed
/// directory, only a regular file, never through a symbolic link, and at most <c>MaxBytes</c> of it. Every name comes
/// from the runtime's event, so each test hands it one that tries to reach out.
/// </summary>
public sealed partial class DownloadFilesTests : IDisposable
{
    private const int MaxBytes = 1024;
    private static readonly byte[] Content = Encoding.UTF8.GetBytes("id,total\n1,42\n");

    // A fresh directory per test: the listed root, and beside it (in another temporary directory) what is not the
    // runtime's to hand out.
    private readonly string _root = Directory.CreateTempSubdirectory("relay-download-root-").FullName;
    private readonly string _elsewhere = Directory.CreateTempSubdirectory("relay-download-elsewhere-").FullName;
    private readonly string _guid = Guid.NewGuid().ToString();

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_elsewhere, recursive: true);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_file_named_by_its_guid_in_a_listed_directory_is_read()
    {
        await File.WriteAllBytesAsync(Path.Combine(_root, _guid), Content);

        var (content, loss) = await Files().ReadAsync(Completed(_guid), CancellationToken.None);

        Assert.Equal(Content, content);
        Assert.Null(loss);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_file_is_found_by_its_path_or_by_its_guid_in_a_second_directory_never_by_a_suggested_name()
    {
        var second = Directory.CreateDirectory(Path.Combine(_elsewhere, "second")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(_root, "by-path.csv"), [1]);
        await File.WriteAllBytesAsync(Path.Combine(_root, "report.csv"), [2]);
        await File.WriteAllBytesAsync(Path.Combine(second, _guid), [3]);
        var files = new DownloadFiles([_root + Path.DirectorySeparatorChar, second], MaxBytes);

        Assert.Equal([1], (await files.ReadAsync(Completed("not-a-guid", Path.Combine(_root, "by-path.csv")), CancellationToken.None)).Content);
        // A name the page chose reaches no file: in a directory runtimes share it could name another's download.
        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await files.ReadAsync(new DownloadEvent("not-a-guid", "report.csv", "completed", null), CancellationToken.None));
        Assert.Equal([3], (await files.ReadAsync(Completed(_guid), CancellationToken.None)).Content);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_file_path_outside_every_listed_directory_is_refused()
    {
        var outside = Path.Combine(_elsewhere, "secret.txt");
        await File.WriteAllBytesAsync(outside, Content);

        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await Files().ReadAsync(Completed(_guid, outside), CancellationToken.None));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_directory_that_only_starts_with_a_listed_one_s_name_is_outside_it()
    {
        var listed = Directory.CreateDirectory(Path.Combine(_elsewhere, "downloads")).FullName;
        var sibling = Directory.CreateDirectory(Path.Combine(_elsewhere, "downloads2")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(sibling, _guid), Content);

        var files = new DownloadFiles([listed], MaxBytes);

        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await files.ReadAsync(Completed(_guid, Path.Combine(sibling, _guid)), CancellationToken.None));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_symbolic_link_in_a_listed_directory_that_points_out_of_it_is_refused()
    {
        var outside = Path.Combine(_elsewhere, "secret.txt");
        await File.WriteAllBytesAsync(outside, Content);
        var link = Path.Combine(_root, _guid);
        File.CreateSymbolicLink(link, outside);

        // Named by its guid, by its path, and by a suggested name: each reaches the link, none reads through it.
        File.CreateSymbolicLink(Path.Combine(_root, "report.csv"), outside);
        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await Files().ReadAsync(Completed(_guid), CancellationToken.None));
        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await Files().ReadAsync(Completed("g", link), CancellationToken.None));
        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await Files().ReadAsync(Completed("g"), CancellationToken.None));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_symbolic_link_to_a_file_inside_the_listed_directory_is_refused_too()
    {
        // No link is followed, even one that stays inside: what it points to may change between the check and the read.
        var target = Path.Combine(_root, "real.csv");
        await File.WriteAllBytesAsync(target, Content);
        File.CreateSymbolicLink(Path.Combine(_root, _guid), target);

        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await Files().ReadAsync(Completed(_guid), CancellationToken.None));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_file_under_a_symbolically_linked_subdirectory_is_refused()
    {
        await File.WriteAllBytesAsync(Path.Combine(_elsewhere, "secret.txt"), Content);
        Directory.CreateSymbolicLink(Path.Combine(_root, "sub"), _elsewhere);
        var throughLink = Path.Combine(_root, "sub", "secret.txt");
        Assert.True(File.Exists(throughLink)); // the link works: only the relay declines to follow it

        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await Files().ReadAsync(Completed(_guid, throughLink), CancellationToken.None));

        // Deeper below the link too.
        Directory.CreateDirectory(Path.Combine(_elsewhere, "deeper"));
        await File.WriteAllBytesAsync(Path.Combine(_elsewhere, "deeper", "secret.txt"), Content);
        var deeper = Path.Combine(_root, "sub", "deeper", "secret.txt");
        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await Files().ReadAsync(Completed(_guid, deeper), CancellationToken.None));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_file_in_a_real_subdirectory_is_read()
    {
        var sub = Directory.CreateDirectory(Path.Combine(_root, "sub", "deeper")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(sub, "report.csv"), Content);

        Assert.Equal(Content, (await Files().ReadAsync(Completed(_guid, Path.Combine(sub, "report.csv")), CancellationToken.None)).Content);
    }

    [Fact(Timeout = 10_000)]
    public async Task Dot_dots_that_escape_the_listed_directory_are_refused_and_ones_that_stay_inside_are_not()
    {
        await File.WriteAllBytesAsync(Path.Combine(_elsewhere, "secret.txt"), Content);
        await File.WriteAllBytesAsync(Path.Combine(_root, "inside.csv"), Content);
        var escaping = Path.Combine(_root, "..", Path.GetFileName(_elsewhere), "secret.txt");
        var alsoEscaping = Path.Combine(_root, "sub", "..", "..", Path.GetFileName(_elsewhere), "secret.txt");
        var staying = Path.Combine(_root, "sub", "..", "inside.csv");

        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await Files().ReadAsync(Completed(_guid, escaping), CancellationToken.None));
        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await Files().ReadAsync(Completed(_guid, alsoEscaping), CancellationToken.None));
        Assert.Equal(Content, (await Files().ReadAsync(Completed(_guid, staying), CancellationToken.None)).Content);
    }

    [Theory(Timeout = 10_000)]
    [InlineData("sub/report.csv")]
    [InlineData("../secret.txt")]
    [InlineData(".")]
    [InlineData("..")]
    public async Task A_suggested_name_is_never_taken_as_a_path(string suggested)
    {
        // The listed directory is a level down, so that each name would reach a file if it were taken as a path.
        var listed = Directory.CreateDirectory(Path.Combine(_root, "downloads")).FullName;
        Directory.CreateDirectory(Path.Combine(listed, "sub"));
        await File.WriteAllBytesAsync(Path.Combine(listed, "sub", "report.csv"), Content);
        await File.WriteAllBytesAsync(Path.Combine(_root, "secret.txt"), Content);
        var files = new DownloadFiles([listed], MaxBytes);

        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await files.ReadAsync(new DownloadEvent("not-a-guid", suggested, "completed", null), CancellationToken.None));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_relative_file_path_is_not_taken()
    {
        Directory.CreateDirectory(Path.Combine(_root, "sub"));
        await File.WriteAllBytesAsync(Path.Combine(_root, "sub", "report.csv"), Content);

        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await Files().ReadAsync(Completed("g", Path.Combine("sub", "report.csv")), CancellationToken.None));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_file_larger_than_the_cap_is_too_large_and_one_of_exactly_the_cap_is_read()
    {
        await File.WriteAllBytesAsync(Path.Combine(_root, _guid), new byte[MaxBytes + 1]);
        Assert.Equal((null, ArtifactLoss.TooLarge), await Files().ReadAsync(Completed(_guid), CancellationToken.None));

        await File.WriteAllBytesAsync(Path.Combine(_root, _guid), new byte[MaxBytes]);
        Assert.Equal(MaxBytes, (await Files().ReadAsync(Completed(_guid), CancellationToken.None)).Content!.Length);
    }

    [Fact(Timeout = 10_000)]
    public async Task With_no_directory_listed_every_download_is_unreachable()
    {
        var file = Path.Combine(_root, _guid);
        await File.WriteAllBytesAsync(file, Content);
        var files = new DownloadFiles([], MaxBytes);

        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await files.ReadAsync(Completed(_guid, file), CancellationToken.None));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_missing_file_or_a_directory_by_that_name_is_unreachable()
    {
        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await Files().ReadAsync(Completed(_guid), CancellationToken.None));

        Directory.CreateDirectory(Path.Combine(_root, _guid));
        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await Files().ReadAsync(Completed(_guid, Path.Combine(_root, _guid)), CancellationToken.None));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_named_pipe_in_a_listed_directory_is_no_regular_file_and_is_refused_without_waiting()
    {
        // docs/artifacts.md: "only if it is a regular file". A runtime that can write its download directory can make
        // a FIFO there under its download's guid; opening one for reading waits for a writer, which would hold the
        // artifact pump (and every artifact behind it) for as long as the runtime likes.
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var fifo = Path.Combine(_root, _guid);
        Assert.Equal(0, MakeFifo(fifo, 0x180)); // 0600
        var files = Files();

        var read = Task.Run(() => files.ReadAsync(Completed(_guid), CancellationToken.None));
        var finished = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(5))) == read;
        if (!finished)
        {
            // Let the reader stuck in open(2) through, so that the test leaves no thread behind: a writer opens the
            // pipe and closes it at once.
            await Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Write).Dispose()).WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Fail($"reading a FIFO waited 5 s for a writer; once one came, it {await OutcomeAsync(read)}");
        }

        Assert.Equal((null, ArtifactLoss.DownloadUnreachable), await read);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_named_pipe_the_runtime_holds_open_is_refused_not_thrown_out()
    {
        // The same FIFO with the runtime's end already open: the relay's open returns at once, and what follows must
        // not throw out of ReadAsync (an exception there would end the artifact pump).
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var fifo = Path.Combine(_root, _guid);
        Assert.Equal(0, MakeFifo(fifo, 0x180)); // 0600
        await using var runtimeEnd = new FileStream(fifo, FileMode.Open, FileAccess.ReadWrite); // O_RDWR: does not wait on Linux
        var files = Files();

        var read = Task.Run(() => files.ReadAsync(Completed(_guid), CancellationToken.None));
        Assert.True(await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(5))) == read, "the read did not return");

        var outcome = await OutcomeAsync(read);
        Assert.True(outcome == $"returned (null, {ArtifactLoss.DownloadUnreachable})", $"expected (null, {ArtifactLoss.DownloadUnreachable}); it {outcome}");
    }

    /// <summary>What a read came to, in words, whether it returned or threw.</summary>
    private static async Task<string> OutcomeAsync(Task<(byte[]? Content, string? Loss)> read)
    {
        try
        {
            var (content, loss) = await read.WaitAsync(TimeSpan.FromSeconds(5));
            return $"returned ({(content is null ? "null" : $"{content.Length} bytes")}, {loss ?? "null"})";
        }
        catch (Exception exception)
        {
            return $"threw {exception.GetType().Name}: {exception.Message}";
        }
    }

    private DownloadFiles Files() => new([_root], MaxBytes);

    private static DownloadEvent Completed(string guid, string? filePath = null) => new(guid, SuggestedFilename: null, "completed", filePath);

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MakeFifo(string path, uint mode);
}
