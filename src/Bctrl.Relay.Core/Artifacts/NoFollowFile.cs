using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Bctrl.Relay.Artifacts;

/// <summary>
/// Opens a file a runtime named for reading, as <c>open(2)</c> with <c>O_NOFOLLOW</c> (a link put in its place between
/// the relay's checks and the open is refused) and <c>O_NONBLOCK</c> (a named pipe opens at once instead of waiting for
/// a writer, and is then refused as not seekable: only a regular file is read). <see cref="FileStream"/> has neither
/// flag, hence the call. Linux only, as the relay's loops are.
/// </summary>
internal static partial class NoFollowFile
{
    private const int ReadOnly = 0;
    private const int NonBlocking = 0x800;      // O_NONBLOCK, the same on x64 and Arm64
    private const int CloseOnExec = 0x80000;    // O_CLOEXEC, the same on x64 and Arm64

    /// <summary>O_NOFOLLOW: 0400000 on x86 and x64, 0100000 on Arm and Arm64 (asm-generic/fcntl.h and its arch overrides).</summary>
    private static int NoFollow => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;

    /// <summary>A stream over a regular file at <paramref name="path"/>; null when it is a link, not seekable (a pipe, a socket) or cannot be opened.</summary>
    public static FileStream? OpenRegular(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var fd = open(path, ReadOnly | NonBlocking | NoFollow | CloseOnExec);
        if (fd < 0)
        {
            return null;
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var stream = new FileStream(handle, FileAccess.Read, bufferSize: 1);
            if (stream.CanSeek)
            {
                return stream;
            }

            stream.Dispose();
            return null;
        }
        catch (Exception exception) when (exception is IOException or ArgumentException or NotSupportedException or UnauthorizedAccessException)
        {
            handle.Dispose();
            return null;
        }
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);
}
