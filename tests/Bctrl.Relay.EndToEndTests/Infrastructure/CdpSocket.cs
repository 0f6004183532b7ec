using System.Net.WebSockets;
using System.Text.Json;

namespace Bctrl.Relay.EndToEndTests.Infrastructure;

/// <summary>
/// A bare CDP client over <see cref="ClientWebSocket"/>: one command at a time, events skipped. It speaks to a
/// page-level socket taken from <c>/json/list</c>, which the browser-level client libraries do not, and it can stay
/// silent (no receive pending, so no pong) to stand for a client that has gone away without closing.
/// </summary>
internal sealed class CdpSocket : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _nextId;

    private CdpSocket(ClientWebSocket socket)
    {
        _socket = socket;
    }

    public WebSocketState State => _socket.State;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseStatusDescription => _socket.CloseStatusDescription;

    public static async Task<CdpSocket> ConnectAsync(Uri url, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.Proxy = null;
        // No pings or unsolicited pongs of its own: the keep-alive tests must see only the answers to the relay's pings.
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        try
        {
            await socket.ConnectAsync(url, cancellationToken);
            return new CdpSocket(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends one command and returns its <c>result</c>; a CDP error fails the test with its message.</summary>
    public async Task<JsonElement> SendAsync(string method, object? parameters, CancellationToken cancellationToken)
    {
        var id = ++_nextId;
        var command = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters ?? new { } });
        await _socket.SendAsync(command, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        while (true)
        {
            using var message = await ReceiveAsync(cancellationToken)
                ?? throw new WebSocketException($"The socket closed ({_socket.CloseStatus} {_socket.CloseStatusDescription}) before the answer to {method}.");
            var root = message.RootElement;
            if (!root.TryGetProperty("id", out var answerId) || answerId.GetInt32() != id)
            {
                continue;
            }

            if (root.TryGetProperty("error", out var error))
            {
                Assert.Fail($"{method} failed: {error.GetRawText()}");
            }

            return root.GetProperty("result").Clone();
        }
    }

    /// <summary>Evaluates an expression in the page and returns its value.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression, CancellationToken cancellationToken)
    {
        var result = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true, awaitPromise = true }, cancellationToken);
        if (result.TryGetProperty("exceptionDetails", out var exception))
        {
            Assert.Fail($"Evaluating {expression} threw: {exception.GetRawText()}");
        }

        return result.GetProperty("result").GetProperty("value").Clone();
    }

    /// <summary>Evaluates <c>document.title</c> until it reads <paramref name="expected"/> (a page still loading), for up to 20 s; returns the last title read.</summary>
    public async Task<string> WaitForTitleAsync(string expected, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        string title;
        do
        {
            title = (await EvaluateAsync("document.title", cancellationToken)).GetString() ?? string.Empty;
            if (title != expected)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
        while (title != expected && DateTime.UtcNow < deadline);

        return title;
    }

    /// <summary>Reads until the peer's close frame arrives (skipping messages); returns false if it does not in time.</summary>
    public async Task<bool> WaitForCloseAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            while (await ReceiveAsync(cancellation.Token) is { } message)
            {
                message.Dispose();
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (WebSocketException)
        {
            // The connection dropped without a close frame; the caller looks at CloseStatus.
            return true;
        }
    }

    public async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (_socket.State == WebSocketState.Open)
        {
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cancellationToken);
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>One whole message as JSON, or null once the peer has closed.</summary>
    private async Task<JsonDocument?> ReceiveAsync(CancellationToken cancellationToken)
    {
        using var message = new MemoryStream();
        while (true)
        {
            var received = await _socket.ReceiveAsync(_buffer.AsMemory(), cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(_buffer, 0, received.Count);
            if (received.EndOfMessage)
            {
                Assert.Equal(WebSocketMessageType.Text, received.MessageType);
                return JsonDocument.Parse(message.ToArray());
            }
        }
    }
}
