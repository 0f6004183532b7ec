using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Bctrl.Relay.Loops;

namespace Bctrl.Relay.Benchmarks;

/// <summary>
/// Blocking TCP sockets on raw descriptors, for the peers of <see cref="AttachBenchmarks"/>: a client and a runtime that
/// allocate nothing per connection, so the memory diagnoser's count per attach is the relay's alone.
/// </summary>
internal static unsafe partial class BlockingSockets
{
    private const int SOCK_STREAM = 1;
    private const int SOCK_CLOEXEC = 0x80000;

    /// <summary>A blocking TCP socket connected to <paramref name="endPoint"/> (IPv4).</summary>
    public static int Connect(IPEndPoint endPoint)
    {
        var fd = Check(socket(2, SOCK_STREAM | SOCK_CLOEXEC, 0));
        var result = LinuxSockets.Connect(fd, endPoint);
        if (result < 0)
        {
            _ = close(fd);
            throw new SocketException(-result);
        }

        return fd;
    }

    /// <summary>A blocking listening socket on 127.0.0.1 at a port the system picks; returns it and the port.</summary>
    public static (int Fd, int Port) Listen()
    {
        var fd = Check(socket(2, SOCK_STREAM | SOCK_CLOEXEC, 0));
        var address = stackalloc byte[16];
        new Span<byte>(address, 16).Clear();
        *(ushort*)address = 2;
        address[4] = 127;
        address[7] = 1;
        Check(bind(fd, address, 16));
        Check(listen(fd, 512));
        var length = 16;
        Check(getsockname(fd, address, &length));
        return (fd, (address[2] << 8) | address[3]);
    }

    /// <summary>The next connection on <paramref name="listener"/>; -1 once the listener is shut down.</summary>
    public static int Accept(int listener) => accept4(listener, null, null, SOCK_CLOEXEC);

    /// <summary>Receives into <paramref name="destination"/>; 0 at the end of the stream, -1 on an error.</summary>
    public static int Receive(int fd, Span<byte> destination)
    {
        fixed (byte* pointer = destination)
        {
            return (int)recv(fd, pointer, destination.Length, 0);
        }
    }

    /// <summary>Sends all of <paramref name="source"/>.</summary>
    public static void SendAll(int fd, ReadOnlySpan<byte> source)
    {
        fixed (byte* pointer = source)
        {
            for (var sent = 0; sent < source.Length;)
            {
                var result = (int)send(fd, pointer + sent, source.Length - sent, 0x4000); // MSG_NOSIGNAL
                if (result <= 0)
                {
                    throw new SocketException(Marshal.GetLastPInvokeError());
                }

                sent += result;
            }
        }
    }

    /// <summary>Receives until <paramref name="destination"/> holds <paramref name="marker"/>; returns the bytes received.</summary>
    public static int ReceiveUntil(int fd, Span<byte> destination, ReadOnlySpan<byte> marker)
    {
        var length = 0;
        while (destination[..length].IndexOf(marker) < 0)
        {
            var received = Receive(fd, destination[length..]);
            if (received <= 0)
            {
                throw new InvalidOperationException("The peer ended its stream early.");
            }

            length += received;
        }

        return length;
    }

    /// <summary>Receives until the end of the stream, discarding what comes; returns how many bytes came.</summary>
    public static int ReceiveToEnd(int fd, Span<byte> scratch)
    {
        var total = 0;
        int received;
        while ((received = Receive(fd, scratch)) > 0)
        {
            total += received;
        }

        return total;
    }

    public static void ShutDown(int fd) => _ = shutdown(fd, 2);

    public static void Close(int fd) => _ = close(fd);

    private static int Check(int result) => result >= 0 ? result : throw new SocketException(Marshal.GetLastPInvokeError());

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int bind(int fd, byte* address, int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int listen(int fd, int backlog);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockname(int fd, byte* address, int* length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int accept4(int fd, byte* address, int* length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int shutdown(int fd, int how);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
