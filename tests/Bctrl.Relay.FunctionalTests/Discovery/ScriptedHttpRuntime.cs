using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Bctrl.Relay.FunctionalTests.Control;

namespace Bctrl.Relay.FunctionalTests.Discovery;

/// <summary>
/// A hostile runtime on 127.0.0.1:0 for discovery: every request is answered by a script that writes raw HTTP/1.1 to
/// the socket (a redirect, a lying length, an endless chunked body), then the connection closes. It counts the
/// connections it accepts, so a test can tell that the relay never reached it.
/// </summary>
/// <param name="answer">Writes the whole answer to a request for the path it is given.</param>
internal sealed class ScriptedHttpRuntime(Func<string, Stream, CancellationToken, Task> answer) : LoopbackHttpServer
{
    private readonly Func<string, Stream, CancellationToken, Task> _answer = answer;

    /// <summary>A 200 with a Content-Length.</summary>
    public static async Task JsonAsync(Stream stream, string document, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(document);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"), cancellationToken);
        await stream.WriteAsync(body, cancellationToken);
    }

    /// <summary>A 302 to <paramref name="location"/>.</summary>
    public static Task RedirectAsync(Stream stream, Uri location, CancellationToken cancellationToken)
        => stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), cancellationToken).AsTask();

    /// <summary>
    /// A 200 whose body is <paramref name="head"/>, then <paramref name="block"/> <paramref name="repeat"/> times joined
    /// by commas, then <paramref name="tail"/>: a document of any size from one buffer. Chunked (one chunk per piece)
    /// unless <paramref name="contentLength"/> is set, which is announced as given (it may lie).
    /// </summary>
    public static async Task RepeatedAsync(
        Stream stream, string head, byte[] block, long repeat, string tail, bool chunked, long? contentLength, CancellationToken cancellationToken)
    {
        var headBytes = Encoding.UTF8.GetBytes(head);
        var tailBytes = Encoding.UTF8.GetBytes(tail);
        var framing = chunked ? "Transfer-Encoding: chunked" : $"Content-Length: {contentLength}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\n{framing}\r\nConnection: close\r\n\r\n"), cancellationToken);
        var comma = ","u8.ToArray();
        await PieceAsync(headBytes);
        for (var i = 0L; i < repeat; i++)
        {
            if (i > 0)
            {
                await PieceAsync(comma);
            }

            await PieceAsync(block);
        }

        await PieceAsync(tailBytes);
        if (chunked)
        {
            await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), cancellationToken);
        }

        async Task PieceAsync(byte[] piece)
        {
            if (chunked)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(piece.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n"), cancellationToken);
                await stream.WriteAsync(piece, cancellationToken);
                await stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken);
            }
            else
            {
                await stream.WriteAsync(piece, cancellationToken);
            }
        }
    }

    protected override async Task ServeAsync(NetworkStream stream)
    {
        if (await ReadHeadAsync(stream, []) is { } head)
        {
            await _answer(head[0].Split(' ')[1], stream, Stopping);
        }
    }
}
