using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Bctrl.Relay.Loops;

/// <summary>
/// The few Linux system calls the relay's I/O loops make (docs/design.md §11), called directly: <c>epoll</c>, an
/// <c>eventfd</c> to wake a loop, and non-blocking socket calls on raw descriptors. A result below 0 is
/// <c>-errno</c>, so a caller tells "would block" from a failure without an exception or a second call.
/// </summary>
/// <remarks>
/// Every receive and send passes <c>MSG_DONTWAIT</c>, so a call never blocks whatever the descriptor's own mode, and
/// every send passes <c>MSG_NOSIGNAL</c>, so a peer gone away is <c>-EPIPE</c>, never a signal.
/// </remarks>
internal static unsafe partial class LinuxSockets
{
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EINPROGRESS = 115;

    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLET = 1u << 31;

    /// <summary>What a loop waits for on every descriptor, once, for the descriptor's whole life: no <c>EPOLL_CTL_MOD</c> per message.</summary>
    public const uint EdgeTriggeredBothWays = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

    /// <summary>Events that mean the peer sent its last byte or the connection failed: read until the end.</summary>
    public const uint EndEvents = EPOLLRDHUP | EPOLLHUP | EPOLLERR;

    private const int EPOLL_CTL_ADD = 1;
    private const int CloseOnExec = 0x80000;
    private const int NonBlocking = 0x800;
    private const int SOCK_STREAM = 1;
    private const int IPPROTO_TCP = 6;
    private const int TCP_NODELAY = 1;
    private const int SOL_SOCKET = 1;
    private const int SO_ERROR = 4;
    private const int MSG_DONTWAIT = 0x40;
    private const int MSG_NOSIGNAL = 0x4000;

    /// <summary>
    /// <c>struct epoll_event</c> is packed on x86-64 (12 bytes: events, then the 64-bit data at offset 4) and naturally
    /// aligned elsewhere (16 bytes, data at offset 8).
    /// </summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    private static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    /// <summary>Whether this process can run the relay transport: Linux, where every call here exists.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    public static int CreateEpoll() => Check(epoll_create1(CloseOnExec));

    public static int CreateEventFd() => Check(eventfd(0, CloseOnExec | NonBlocking));

    public static int Add(int epoll, int fd, uint events, ulong data)
    {
        var buffer = stackalloc byte[16];
        WriteEvent(buffer, events, data);
        return Result(epoll_ctl(epoll, EPOLL_CTL_ADD, fd, buffer));
    }

    public static int Wait(int epoll, byte* events, int capacity, int timeoutMilliseconds)
        => Result(epoll_wait(epoll, events, capacity, timeoutMilliseconds));

    public static uint EventsAt(byte* events, int index) => *(uint*)(events + (index * EpollEventSize));

    public static ulong DataAt(byte* events, int index) => *(ulong*)(events + (index * EpollEventSize) + EpollDataOffset);

    public static int Receive(int fd, Span<byte> destination)
    {
        fixed (byte* pointer = destination)
        {
            return (int)Result(recv(fd, pointer, destination.Length, MSG_DONTWAIT));
        }
    }

    public static int Send(int fd, ReadOnlySpan<byte> source)
    {
        fixed (byte* pointer = source)
        {
            return (int)Result(send(fd, pointer, source.Length, MSG_DONTWAIT | MSG_NOSIGNAL));
        }
    }

    /// <summary>Wakes a loop blocked in <c>epoll_wait</c> on <paramref name="eventFd"/>.</summary>
    public static void Signal(int eventFd)
    {
        ulong one = 1;
        _ = write(eventFd, &one, sizeof(ulong));
    }

    /// <summary>Resets an <c>eventfd</c> after a wake.</summary>
    public static void Drain(int eventFd)
    {
        ulong value;
        _ = read(eventFd, &value, sizeof(ulong));
    }

    public static void Shutdown(int fd, SocketShutdown how) => _ = shutdown(fd, (int)how);

    public static void Close(int fd) => _ = close(fd);

    /// <summary>A non-blocking TCP socket with <c>TCP_NODELAY</c>, for <paramref name="family"/>; <c>-errno</c> on failure.</summary>
    public static int OpenStream(AddressFamily family)
    {
        var fd = Result(socket(family == AddressFamily.InterNetworkV6 ? 10 : 2, SOCK_STREAM | NonBlocking | CloseOnExec, IPPROTO_TCP));
        if (fd >= 0)
        {
            var on = 1;
            _ = setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(int));
        }

        return fd;
    }

    /// <summary>A connected pair of local stream sockets (benchmarks and tests of the loop splice, without TCP).</summary>
    public static (int First, int Second) CreatePair()
    {
        var pair = stackalloc int[2];
        Check(socketpair(1, SOCK_STREAM | CloseOnExec, 0, pair));
        return (pair[0], pair[1]);
    }

    /// <summary>Starts a connect; 0 when connected at once, <c>-EINPROGRESS</c> when it goes on, another <c>-errno</c> on failure.</summary>
    public static int Connect(int fd, IPEndPoint endPoint)
    {
        var address = stackalloc byte[28];
        new Span<byte>(address, 28).Clear();
        var port = (ushort)endPoint.Port;
        int length;
        if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
        {
            *(ushort*)address = 10;
            length = 28;
            endPoint.Address.TryWriteBytes(new Span<byte>(address + 8, 16), out _);
            *(uint*)(address + 24) = (uint)endPoint.Address.ScopeId;
        }
        else
        {
            *(ushort*)address = 2;
            length = 16;
            endPoint.Address.TryWriteBytes(new Span<byte>(address + 4, 4), out _);
        }

        address[2] = (byte)(port >> 8);
        address[3] = (byte)port;
        return Result(connect(fd, address, length));
    }

    /// <summary>The pending error of a socket whose connect finished (0: connected).</summary>
    public static int PendingError(int fd)
    {
        int error = 0;
        var length = sizeof(int);
        return Result(getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)) < 0 ? -1 : error;
    }

    /// <summary>Whether <paramref name="result"/> (a negative <c>-errno</c>) means the call would have blocked.</summary>
    public static bool WouldBlock(long result) => result == -EAGAIN;

    private static void WriteEvent(byte* buffer, uint events, ulong data)
    {
        *(uint*)buffer = events;
        *(ulong*)(buffer + EpollDataOffset) = data;
    }

    private static int Check(int result) => result >= 0
        ? result
        : throw new SocketException(Marshal.GetLastPInvokeError());

    private static int Result(int result) => result >= 0 ? result : -Marshal.GetLastPInvokeError();

    private static long Result(nint result) => result >= 0 ? result : -Marshal.GetLastPInvokeError();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_ctl(int epfd, int op, int fd, byte* eventData);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_wait(int epfd, byte* events, int maxevents, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint read(int fd, void* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(int fd, void* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int shutdown(int fd, int how);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socketpair(int domain, int type, int protocol, int* pair);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int connect(int fd, byte* address, int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setsockopt(int fd, int level, int name, void* value, int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockopt(int fd, int level, int name, void* value, int* length);
}
