using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Bctrl.Relay.Control;
using Bctrl.Relay.Handshake;
using Bctrl.Relay.Hosting.Transport;
using Bctrl.Relay.Splice;
using Bctrl.Relay.Tls;

namespace Bctrl.Relay.Attach;

/// <summary>
/// A runtime connection whose WebSocket handshake succeeded, with any bytes that came right behind the 101: the socket
/// itself, or a TLS stream over it for a <c>wss://</c> runtime.
/// </summary>
internal sealed class UpstreamConnection(Socket socket, SslStream? tls, ReadOnlyMemory<byte> leftover, string? subProtocol) : IDisposable
{
    public ReadOnlyMemory<byte> Leftover => leftover;

    public string? SubProtocol => subProtocol;

    /// <summary>The splice's side of it; the link owns the connection from then on.</summary>
    public RuntimeLink CreateLink() => tls is null
        ? new SocketRuntimeLink(socket)
        : new PipeRuntimeLink(PipeReader.Create(tls), PipeWriter.Create(tls), owner: tls);

    public void Dispose()
    {
        tls?.Dispose();
        socket.Dispose();
    }
}

/// <summary>
/// Dials the runtime and performs the client side of the WebSocket handshake (docs/design.md §4 step 2): <c>Host</c> is the
/// runtime's address, there is no <c>Origin</c>, no <c>Sec-WebSocket-Extensions</c> (so frames can be forwarded
/// byte for byte) and nothing from the lease. Failures are values: 502 <c>runtime_unreachable</c> or
/// <c>bad_upstream_handshake</c>.
/// </summary>
internal static class UpstreamDialer
{
    private const int MaxResponseBytes = 16 * 1024;

    public static async Task<(UpstreamConnection? Connection, ApiError? Error)> DialAsync(
        Uri target, string? subProtocol, TimeSpan timeout, RuntimeTrust trust, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        Socket socket;
        SslStream? tls = null;
        try
        {
            socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        }
        catch (SocketException exception) when (Descriptors.IsOutOf(exception.SocketErrorCode))
        {
            // No descriptor for the runtime leg: the node is at its limit, not the runtime at fault (issue 8, finding 1).
            return (null, ApiError.AtCapacity);
        }

        try
        {
            try
            {
                // The runtime's address is an IP literal by now (RuntimeAddresses resolves names): an IPEndPoint skips
                // the name-resolution path a DnsEndPoint takes even for a literal.
                EndPoint endPoint = IPAddress.TryParse(target.DnsSafeHost, out var address)
                    ? new IPEndPoint(address, target.Port)
                    : new DnsEndPoint(target.DnsSafeHost, target.Port);
                await socket.ConnectAsync(endPoint, deadline.Token);
            }
            catch (Exception exception) when (exception is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                return (null, ApiError.RuntimeUnreachable);
            }

            Stream wire = new NetworkStream(socket, ownsSocket: false);
            if (RuntimeTrust.IsTls(target))
            {
                tls = new SslStream(wire, leaveInnerStreamOpen: false);
                try
                {
                    await tls.AuthenticateAsClientAsync(trust.ForHost(target.IdnHost), deadline.Token);
                }
                catch (Exception exception) when (exception is AuthenticationException or IOException && !deadline.IsCancellationRequested)
                {
                    tls.Dispose();
                    socket.Dispose();
                    return (null, ApiError.RuntimeTlsFailed);
                }

                wire = tls;
            }

            var key = WebSocketAccept.NewKey();
            var request = ArrayPool<byte>.Shared.Rent(MaxResponseBytes);
            try
            {
                await wire.WriteAsync(request.AsMemory(0, WriteRequest(request, target, key, subProtocol)), deadline.Token);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(request);
            }

            var (response, leftover) = await ReadResponseAsync(wire, deadline.Token);
            var problem = Check(response, key, subProtocol);
            if (problem is not null)
            {
                tls?.Dispose();
                socket.Dispose();
                return (null, BadHandshake(problem));
            }

            return (new UpstreamConnection(socket, tls, leftover, response!["Sec-WebSocket-Protocol"]), null);
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException or IOException)
        {
            tls?.Dispose();
            socket.Dispose();
            var timedOut = exception is OperationCanceledException && !cancellationToken.IsCancellationRequested;
            return (null, BadHandshake(
                timedOut ? "The runtime did not complete the WebSocket handshake in time." : "The runtime closed the connection during the WebSocket handshake."));
        }
    }

    public static ApiError BadHandshake(string problem) => ApiError.BadUpstreamHandshake.With(problem);

    /// <summary>
    /// Writes the handshake request into <paramref name="destination"/> (at least 4 KiB) and returns its length; no
    /// string is built for it.
    /// </summary>
    public static int WriteRequest(Span<byte> destination, Uri target, string key, string? subProtocol)
    {
        var length = 0;
        Append(destination, ref length, "GET ");
        Append(destination, ref length, target.PathAndQuery);
        Append(destination, ref length, " HTTP/1.1\r\nHost: ");
        Append(destination, ref length, target.Authority);
        Append(destination, ref length, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
        Append(destination, ref length, key);
        Append(destination, ref length, "\r\nSec-WebSocket-Version: 13\r\n");
        if (subProtocol is not null)
        {
            Append(destination, ref length, "Sec-WebSocket-Protocol: ");
            Append(destination, ref length, subProtocol);
            Append(destination, ref length, "\r\n");
        }

        Append(destination, ref length, "\r\n");
        return length;
    }

    private static void Append(Span<byte> destination, ref int length, ReadOnlySpan<char> text)
        => length += Encoding.ASCII.GetBytes(text, destination[length..]);

    private static async Task<(UpstreamResponse? Response, ReadOnlyMemory<byte> Leftover)> ReadResponseAsync(Stream wire, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxResponseBytes);
        try
        {
            var filled = 0;
            while (filled < MaxResponseBytes)
            {
                var received = await wire.ReadAsync(buffer.AsMemory(filled, MaxResponseBytes - filled), cancellationToken);
                if (received == 0)
                {
                    throw new IOException("The runtime closed the connection during the handshake.");
                }

                filled += received;
                var end = UpstreamResponse.FindHeaderEnd(buffer.AsSpan(0, filled));
                if (end >= 0)
                {
                    return (UpstreamResponse.Parse(buffer.AsSpan(0, end)), buffer.AsSpan(end, filled - end).ToArray());
                }
            }

            return (null, ReadOnlyMemory<byte>.Empty);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>RFC 6455 §4.1: the checks a client makes of the server's handshake; null when it passes.</summary>
    public static string? Check(UpstreamResponse? response, string key, string? subProtocol)
    {
        if (response is null)
        {
            return "The runtime did not answer with an HTTP response.";
        }

        if (response.Status != 101)
        {
            return $"The runtime answered the WebSocket handshake with status {response.Status}.";
        }

        if (!response.HeaderHasToken("Upgrade", "websocket") || !response.HeaderHasToken("Connection", "upgrade"))
        {
            return "The runtime's 101 lacks the WebSocket Upgrade and Connection headers.";
        }

        if (!string.Equals(response["Sec-WebSocket-Accept"], WebSocketAccept.Compute(key), StringComparison.Ordinal))
        {
            return "The runtime's Sec-WebSocket-Accept does not match the key sent.";
        }

        if (response["Sec-WebSocket-Extensions"] is not null)
        {
            return "The runtime negotiated an extension that was not offered.";
        }

        var chosen = response["Sec-WebSocket-Protocol"];
        if (chosen is not null && (subProtocol is null || !subProtocol.Split(',').Select(p => p.Trim()).Contains(chosen)))
        {
            return "The runtime chose a subprotocol that was not offered.";
        }

        return null;
    }
}
