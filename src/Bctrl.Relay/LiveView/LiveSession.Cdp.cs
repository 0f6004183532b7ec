using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;

namespace Bctrl.Relay.LiveView;

internal sealed partial class LiveSession
{
    /// <summary>
    /// Issues the commands that need an answer: discovery on, the page to show first, then a switch whenever the
    /// receive pump reports a new page, a page that another client attached to, or the end of the shown one. Returns
    /// when the receive pump ends (the runtime left) or the session stops.
    /// </summary>
    private async Task<string> ControlAsync()
    {
        await CallAsync("Target.setDiscoverTargets", static w => w.WriteBoolean("discover", true), sessionId: null);
        // setDiscoverTargets reports every existing target as created: only pages not listed here are new.
        var known = new HashSet<string>(StringComparer.Ordinal);
        string? shown = null;
        var first = await CallAsync("Target.getTargets", null, sessionId: null);
        foreach (var info in first.GetProperty("targetInfos").EnumerateArray())
        {
            if (IsPage(info) && info.GetProperty("targetId").GetString() is { } id)
            {
                // Chromium lists the most recently active page first: that is the one a user would be looking at.
                shown ??= id;
                known.Add(id);
            }
        }

        if (shown is not null)
        {
            await ShowAsync(shown);
        }

        await foreach (var change in _events.Reader.ReadAllAsync(_stop.Token))
        {
            // Only two things move the view: a new tab (where the runtime's client has just gone) and the end of the
            // shown one. Attach state is no signal: other clients, and other relays' live views, attach and detach
            // all the time, and following them made two views chase each other.
            var switchTo = change.Kind switch
            {
                TargetEventKind.Created when known.Add(change.TargetId) => change.TargetId,
                TargetEventKind.Destroyed or TargetEventKind.Detached when change.TargetId == shown => await NewestPageAsync(change.TargetId),
                _ => null,
            };
            if (change.Kind == TargetEventKind.Destroyed)
            {
                known.Remove(change.TargetId);
            }

            if (switchTo is not null && switchTo != shown)
            {
                shown = switchTo;
                await ShowAsync(switchTo);
            }
        }

        return "runtime closed the connection";
    }

    /// <summary>The page listed first (the most recently active) other than <paramref name="gone"/>.</summary>
    private async Task<string?> NewestPageAsync(string gone)
    {
        var targets = await CallAsync("Target.getTargets", null, sessionId: null);
        foreach (var info in targets.GetProperty("targetInfos").EnumerateArray())
        {
            if (IsPage(info) && !info.GetProperty("targetId").ValueEquals(gone))
            {
                return info.GetProperty("targetId").GetString();
            }
        }

        return null;
    }

    private static bool IsPage(JsonElement info) => info.TryGetProperty("type", out var type) && type.ValueEquals("page");

    /// <summary>Leaves the shown page (its screencast stops with the detach) and screencasts <paramref name="targetId"/>.</summary>
    private async Task ShowAsync(string targetId)
    {
        if (Interlocked.Exchange(ref _shownSession, null) is { } previous)
        {
            await SendAsync("Target.detachFromTarget", w => w.WriteString("sessionId", previous), sessionId: null);
        }

        try
        {
            var attach = await CallAsync("Target.attachToTarget", w =>
            {
                w.WriteString("targetId", targetId);
                w.WriteBoolean("flatten", true);
            }, sessionId: null);
            var session = attach.GetProperty("sessionId").GetString();
            Volatile.Write(ref _shownSession, session);
            await CallAsync("Page.startScreencast", static w =>
            {
                w.WriteString("format", "jpeg");
                w.WriteNumber("quality", JpegQuality);
                w.WriteNumber("maxWidth", MaxFrameWidth);
                w.WriteNumber("maxHeight", MaxFrameHeight);
                w.WriteNumber("everyNthFrame", 1);
            }, session);
            _metrics.ScreencastStarted();
            LiveViewLog.TargetSwitched(_logger, ConnectionId, targetId);
        }
        catch (LiveCdpException)
        {
            // The target went before it could be shown: its destruction is on its way as an event.
        }
    }

    /// <summary>Sends a viewer's input to the shown page, scaled from frame fractions to the page's CSS pixels.</summary>
    public ValueTask DispatchAsync(LiveInput input)
    {
        if (Volatile.Read(ref _shownSession) is not { } session)
        {
            return ValueTask.CompletedTask;
        }

        _metrics.InputWasDispatched();
        if (input.IsKey)
        {
            return SendAsync("Input.dispatchKeyEvent", w =>
            {
                w.WriteString("type", input.Event);
                w.WriteNumber("modifiers", input.Modifiers);
                w.WriteString("key", input.Key);
                w.WriteString("code", input.Code);
                if (input.Text.Length > 0)
                {
                    w.WriteString("text", input.Text);
                    w.WriteString("unmodifiedText", input.Text);
                }

                w.WriteNumber("windowsVirtualKeyCode", input.KeyCode);
            }, session);
        }

        var size = Volatile.Read(ref _size);
        return SendAsync("Input.dispatchMouseEvent", w =>
        {
            w.WriteString("type", input.Event);
            w.WriteNumber("x", Math.Round(input.X * size.Width, 2));
            w.WriteNumber("y", Math.Round(input.Y * size.Height, 2));
            w.WriteNumber("modifiers", input.Modifiers);
            w.WriteString("button", input.Button);
            w.WriteNumber("buttons", input.Buttons);
            w.WriteNumber("clickCount", input.ClickCount);
            if (input.Event == "mouseWheel")
            {
                w.WriteNumber("deltaX", input.DeltaX);
                w.WriteNumber("deltaY", input.DeltaY);
            }
        }, session);
    }

    /// <summary>A command whose answer is awaited (bounded by <see cref="CallTimeout"/>); a CDP error throws <see cref="LiveCdpException"/>.</summary>
    private async Task<JsonElement> CallAsync(string method, Action<Utf8JsonWriter>? parameters, string? sessionId)
    {
        var id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        try
        {
            await SendAsync(id, method, parameters, sessionId);
            return await answer.Task.WaitAsync(CallTimeout, _stop.Token);
        }
        catch (TimeoutException)
        {
            throw new LiveCdpException($"{method} was not answered in time.");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>A command whose answer is not awaited (acks, input): its answer is read and dropped.</summary>
    private async ValueTask SendAsync(string method, Action<Utf8JsonWriter> parameters, string? sessionId)
    {
        try
        {
            await SendAsync(Interlocked.Increment(ref _nextId), method, parameters, sessionId);
        }
        catch (Exception exception) when (exception is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The runtime went away: the receive pump ends the session.
        }
    }

    private async Task SendAsync(int id, string method, Action<Utf8JsonWriter>? parameters, string? sessionId)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("id", id);
            writer.WriteString("method", method);
            if (sessionId is not null)
            {
                writer.WriteString("sessionId", sessionId);
            }

            writer.WriteStartObject("params");
            parameters?.Invoke(writer);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        // ClientWebSocket allows one send at a time; the control pump, acks and input share it.
        await _sendLock.WaitAsync(_stop.Token);
        try
        {
            await _socket!.SendAsync(buffer.WrittenMemory, WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Reads the runtime until it closes; returns why it ended, or null when the session was stopped.</summary>
    private async Task<string?> ReceiveAsync(ClientWebSocket socket)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult received;
                do
                {
                    if (length == buffer.Length)
                    {
                        if (buffer.Length >= MaxMessageBytes)
                        {
                            return "runtime message too big";
                        }

                        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    received = await socket.ReceiveAsync(buffer.AsMemory(length), _stop.Token);
                    length += received.Count;
                }
                while (!received.EndOfMessage && received.MessageType != WebSocketMessageType.Close);

                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return "runtime closed the connection";
                }

                await OnMessageAsync(buffer.AsMemory(0, length));
            }
        }
        catch (Exception exception) when (exception is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            return _stop.IsCancellationRequested ? null : "runtime went away";
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            // Not JSON, or JSON without the fields CDP documents for the message: the runtime's fault.
            return "runtime sent an unexpected message";
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _events.Writer.TryComplete();
            foreach (var pending in _pending.Values)
            {
                // Nothing will answer them now: the control pump ends at once instead of at each call's timeout.
                pending.TrySetException(new LiveCdpException("The runtime's connection ended."));
            }
        }
    }

    private async ValueTask OnMessageAsync(ReadOnlyMemory<byte> message)
    {
        using var document = JsonDocument.Parse(message);
        var root = document.RootElement;
        if (root.TryGetProperty("id", out var idElement))
        {
            if (idElement.TryGetInt32(out var id) && _pending.TryRemove(id, out var answer))
            {
                if (root.TryGetProperty("result", out var result))
                {
                    answer.TrySetResult(result.Clone());
                }
                else
                {
                    answer.TrySetException(new LiveCdpException(root.TryGetProperty("error", out var error) ? error.GetRawText() : "no result"));
                }
            }

            return;
        }

        if (!root.TryGetProperty("method", out var method) || !root.TryGetProperty("params", out var parameters))
        {
            return;
        }

        if (method.ValueEquals("Page.screencastFrame"))
        {
            await OnFrameAsync(root, parameters);
        }
        else if (method.ValueEquals("Target.targetCreated"))
        {
            var info = parameters.GetProperty("targetInfo");
            if (IsPage(info) && info.GetProperty("targetId").GetString() is { } id)
            {
                _events.Writer.TryWrite(new TargetEvent(TargetEventKind.Created, id));
            }
        }
        else if (method.ValueEquals("Target.targetDestroyed") && parameters.GetProperty("targetId").GetString() is { } gone)
        {
            _events.Writer.TryWrite(new TargetEvent(TargetEventKind.Destroyed, gone));
        }
        else if (method.ValueEquals("Target.detachedFromTarget")
            && parameters.TryGetProperty("sessionId", out var detached)
            && detached.GetString() == Volatile.Read(ref _shownSession)
            && parameters.TryGetProperty("targetId", out var detachedTarget))
        {
            _events.Writer.TryWrite(new TargetEvent(TargetEventKind.Detached, detachedTarget.GetString() ?? string.Empty));
        }
    }

    /// <summary>
    /// Acks the frame at once (Chromium sends the next only after the ack) and offers it to every viewer. A frame of a
    /// page no longer shown is acked and dropped.
    /// </summary>
    private async ValueTask OnFrameAsync(JsonElement root, JsonElement parameters)
    {
        var session = root.TryGetProperty("sessionId", out var s) ? s.GetString() : null;
        if (session is null || !parameters.TryGetProperty("sessionId", out var ackId) || !ackId.TryGetInt32(out var frameNumber))
        {
            return;
        }

        await SendAsync("Page.screencastFrameAck", w => w.WriteNumber("sessionId", frameNumber), session);
        if (session != Volatile.Read(ref _shownSession) || !parameters.TryGetProperty("data", out var data) || !data.TryGetBytesFromBase64(out var jpeg))
        {
            return;
        }

        if (parameters.TryGetProperty("metadata", out var metadata)
            && metadata.TryGetProperty("deviceWidth", out var width) && width.TryGetDouble(out var w) && w > 0
            && metadata.TryGetProperty("deviceHeight", out var height) && height.TryGetDouble(out var h) && h > 0
            && (w != _size.Width || h != _size.Height))
        {
            Volatile.Write(ref _size, new ViewSize(w, h));
        }

        Interlocked.Increment(ref _frames);
        var frame = new LiveFrame(jpeg);
        foreach (var viewer in Viewers)
        {
            viewer.Offer(frame);
        }
    }
}

/// <summary>A CDP command of the live session that failed or went unanswered.</summary>
internal sealed class LiveCdpException(string message) : Exception(message);
