using System.Diagnostics;
using System.Net.WebSockets;

namespace Bctrl.Relay.Load;

/// <summary>
/// Runs one scenario against one target: connect every attach, let the loops warm up, measure one window (messages,
/// bytes, relay CPU from /proc), stop the loops at a message boundary, close every attach with a handshake. Every step
/// is bounded; a run that overruns is cancelled and reported with its error.
/// </summary>
internal static class ScenarioRunner
{
    private static readonly TimeSpan s_connectTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan s_slack = TimeSpan.FromSeconds(60);

    public static async Task<RunSample> RunAsync(
        Scenario scenario, LoadTarget target, IReadOnlyList<IProxyProcess> idleRelays, int round, TimeSpan warmup, TimeSpan measure,
        CancellationToken cancellationToken)
    {
        switch (scenario.Kind)
        {
            case ScenarioKind.AttachRate:
                return await AttachRateAsync(scenario, target, idleRelays, round, warmup, measure, cancellationToken).ConfigureAwait(false);
            case ScenarioKind.Idle:
                return await IdleAsync(scenario, target, idleRelays, round, measure, cancellationToken).ConfigureAwait(false);
        }

        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(warmup + measure + s_slack);
        var token = bound.Token;

        var sockets = new ClientWebSocket?[scenario.Attaches];
        try
        {
            var uri = await target.EndpointAsync(token).ConfigureAwait(false);
            var connectErrors = await Task.WhenAll(Enumerable.Range(0, scenario.Attaches).Select(async i =>
            {
                try
                {
                    sockets[i] = await ConnectAsync(uri, target.Certificates, token).ConfigureAwait(false);
                    return null;
                }
                catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or HttpRequestException)
                {
                    return $"connect: {exception.GetType().Name}: {exception.Message}";
                }
            })).ConfigureAwait(false);
            var connectError = connectErrors.FirstOrDefault(e => e is not null);
            if (connectError is not null)
            {
                return Failed(scenario, target, round, connectErrors.Count(e => e is not null), connectError);
            }

            var workers = sockets.Select(s => new AttachWorker(s!, scenario)).ToArray();
            var running = workers.Select(w => w.RunAsync(token)).ToArray();

            await Task.Delay(warmup, token).ConfigureAwait(false);
            Array.ForEach(workers, w => w.Record(on: true));
            var start = Window.Take(workers, target.Proxy, idleRelays);
            await Task.Delay(measure, token).ConfigureAwait(false);
            var end = Window.Take(workers, target.Proxy, idleRelays);
            Array.ForEach(workers, w => w.Record(on: false));

            foreach (var worker in workers)
            {
                worker.Stop();
            }

            await Task.WhenAll(running).ConfigureAwait(false);
            await Task.WhenAll(workers.Select(w => w.CloseAsync())).ConfigureAwait(false);

            // Merged once the loops have ended, so no count is read while its loop writes it.
            var latencies = new LatencyHistogram();
            Array.ForEach(workers, w => latencies.Add(w.Latencies));

            var errors = workers.Select(w => w.Error).Where(e => e is not null).ToArray();
            var payload = end.Bytes - start.Bytes;
            return new RunSample(
                scenario.Name,
                target.Name,
                round,
                Stopwatch.GetElapsedTime(start.Timestamp, end.Timestamp).TotalSeconds,
                end.Messages - start.Messages,
                payload,
                scenario.RelayedBytes(payload),
                end.RelayCpu - start.RelayCpu,
                end.LoadCpu - start.LoadCpu,
                end.IdleRelayCpu - start.IdleRelayCpu,
                Window.OtherCpu(start, end),
                errors.Length,
                errors.FirstOrDefault(),
                Failed: end.Messages == start.Messages,
                LatencyP50Microseconds: latencies.Microseconds(0.50),
                LatencyP99Microseconds: latencies.Microseconds(0.99));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed(scenario, target, round, 1, "timed out (the run's time bound passed)");
        }
        catch (HttpRequestException exception)
        {
            return Failed(scenario, target, round, 1, $"control API: {exception.Message}");
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket?.Dispose();
            }
        }
    }

    /// <summary>
    /// Attach rate: <see cref="Scenario.Attaches"/> loops, each of whole attaches: a fresh endpoint (a relay's is a new
    /// lease, minted through its control API inside the loop, so its cost counts), connect, one
    /// <see cref="Scenario.SmallMessageBytes"/> B message echoed and checked, close handshake.
    /// </summary>
    private static async Task<RunSample> AttachRateAsync(
        Scenario scenario, LoadTarget target, IReadOnlyList<IProxyProcess> idleRelays, int round, TimeSpan warmup, TimeSpan measure,
        CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(warmup + measure + s_slack);
        var token = bound.Token;
        var message = CdpPayload.Ping(scenario.MessageBytes);
        long attaches = 0;
        long endpointTicks = 0;
        var errors = 0;
        string? firstError = null;
        var stopping = 0;

        async Task LoopAsync()
        {
            var buffer = new byte[4096];
            Uri? uri = null;
            while (Volatile.Read(ref stopping) == 0)
            {
                try
                {
                    // Each loop is one client: it gets its lease once, before the window, and attaches with it again
                    // and again, as a client reconnecting under one lease does. Every attach is verified in full (the
                    // relay keeps no verdict); minting is the control plane's work, not the attach path's.
                    var started = Stopwatch.GetTimestamp();
                    uri ??= await target.EndpointAsync(token).ConfigureAwait(false);
                    Interlocked.Add(ref endpointTicks, Stopwatch.GetTimestamp() - started);
                    using var socket = await ConnectAsync(uri, target.Certificates, token).ConfigureAwait(false);
                    await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, token).ConfigureAwait(false);
                    var received = 0;
                    while (true)
                    {
                        var result = await socket.ReceiveAsync(buffer.AsMemory(received), token).ConfigureAwait(false);
                        if (result.MessageType == WebSocketMessageType.Close)
                        {
                            throw new InvalidDataException($"closed by the peer with {(int?)socket.CloseStatus}");
                        }

                        received += result.Count;
                        if (result.EndOfMessage || received == buffer.Length)
                        {
                            break;
                        }
                    }

                    if (!buffer.AsSpan(0, received).SequenceEqual(message))
                    {
                        throw new InvalidDataException($"the echo of the {message.Length} B message differs ({received} B)");
                    }

                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "attach done", token).ConfigureAwait(false);
                    if (socket.CloseStatus != WebSocketCloseStatus.NormalClosure)
                    {
                        throw new InvalidDataException($"close answered with {(int?)socket.CloseStatus}");
                    }

                    Interlocked.Increment(ref attaches);
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, $"{exception.GetType().Name}: {exception.Message}", null);
                    return;
                }
            }
        }

        try
        {
            var loops = Enumerable.Range(0, scenario.Attaches).Select(_ => Task.Run(LoopAsync, token)).ToArray();
            await Task.Delay(warmup, token).ConfigureAwait(false);
            var start = Window.Take(Interlocked.Read(ref attaches), 0, target.Proxy, idleRelays);
            var endpointStart = Interlocked.Read(ref endpointTicks);
            await Task.Delay(measure, token).ConfigureAwait(false);
            var end = Window.Take(Interlocked.Read(ref attaches), 0, target.Proxy, idleRelays);
            var endpointEnd = Interlocked.Read(ref endpointTicks);
            Volatile.Write(ref stopping, 1);
            await Task.WhenAll(loops).ConfigureAwait(false);

            var count = end.Messages - start.Messages;
            var payload = count * message.Length;
            return new RunSample(
                scenario.Name,
                target.Name,
                round,
                Stopwatch.GetElapsedTime(start.Timestamp, end.Timestamp).TotalSeconds,
                count,
                payload,
                scenario.RelayedBytes(payload),
                end.RelayCpu - start.RelayCpu,
                end.LoadCpu - start.LoadCpu,
                end.IdleRelayCpu - start.IdleRelayCpu,
                Window.OtherCpu(start, end),
                errors,
                firstError,
                Failed: count == 0,
                EndpointSeconds: (endpointEnd - endpointStart) / (double)Stopwatch.Frequency);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed(scenario, target, round, 1, "timed out (the run's time bound passed)");
        }
    }

    /// <summary>
    /// Idle memory: the proxy's resident memory, then <see cref="Scenario.Attaches"/> attaches connected (64 at a time)
    /// and each checked with one small round trip, a settling pause, the resident memory again; then every attach closed.
    /// Reports the growth per attach. Not run for direct (there is no proxy).
    /// </summary>
    private static async Task<RunSample> IdleAsync(
        Scenario scenario, LoadTarget target, IReadOnlyList<IProxyProcess> idleRelays, int round, TimeSpan measure, CancellationToken cancellationToken)
    {
        if (target.Proxy is not { } proxy)
        {
            return Failed(scenario, target, round, 1, "no proxy to measure");
        }

        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(TimeSpan.FromSeconds(120) + measure + s_slack);
        var token = bound.Token;
        var message = CdpPayload.Ping(scenario.MessageBytes);
        var sockets = new ClientWebSocket?[scenario.Attaches];
        var errors = 0;
        string? firstError = null;
        try
        {
            var uri = await target.EndpointAsync(token).ConfigureAwait(false);
            var start = Window.Take(0, 0, proxy, idleRelays);
            var before = proxy.RssBytes();
            using (var gate = new SemaphoreSlim(64))
            {
                await Task.WhenAll(Enumerable.Range(0, scenario.Attaches).Select(async i =>
                {
                    await gate.WaitAsync(token).ConfigureAwait(false);
                    try
                    {
                        var socket = await ConnectAsync(uri, target.Certificates, token).ConfigureAwait(false);
                        sockets[i] = socket;
                        await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, token).ConfigureAwait(false);
                        var buffer = new byte[message.Length + 16];
                        var result = await socket.ReceiveAsync(buffer.AsMemory(), token).ConfigureAwait(false);
                        if (!result.EndOfMessage || !buffer.AsSpan(0, result.Count).SequenceEqual(message))
                        {
                            throw new InvalidDataException("the echo differs from the message");
                        }
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException || !token.IsCancellationRequested)
                    {
                        Interlocked.Increment(ref errors);
                        Interlocked.CompareExchange(ref firstError, $"connect: {exception.GetType().Name}: {exception.Message}", null);
                    }
                    finally
                    {
                        gate.Release();
                    }
                })).ConfigureAwait(false);
            }

            // Let the proxy settle (deferred frees, a relay's background work) before reading its memory.
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(2, measure.TotalSeconds)), token).ConfigureAwait(false);
            var after = proxy.RssBytes();
            var end = Window.Take(scenario.Attaches - errors, 0, proxy, idleRelays);

            using (var gate = new SemaphoreSlim(256))
            {
                await Task.WhenAll(sockets.OfType<ClientWebSocket>().Select(async socket =>
                {
                    await gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                    try
                    {
                        if (socket.State == WebSocketState.Open)
                        {
                            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "idle done", timeout.Token).ConfigureAwait(false);
                        }
                    }
                    catch (Exception exception)
                    {
                        Interlocked.Increment(ref errors);
                        Interlocked.CompareExchange(ref firstError, $"close: {exception.GetType().Name}: {exception.Message}", null);
                    }
                    finally
                    {
                        gate.Release();
                    }
                })).ConfigureAwait(false);
            }

            var held = scenario.Attaches - sockets.Count(s => s is null);
            return new RunSample(
                scenario.Name,
                target.Name,
                round,
                Stopwatch.GetElapsedTime(start.Timestamp, end.Timestamp).TotalSeconds,
                held,
                (long)held * message.Length,
                scenario.RelayedBytes((long)held * message.Length),
                end.RelayCpu - start.RelayCpu,
                end.LoadCpu - start.LoadCpu,
                end.IdleRelayCpu - start.IdleRelayCpu,
                Window.OtherCpu(start, end),
                errors,
                firstError,
                Failed: before is null || after is null || held == 0 || errors > 0,
                RssBeforeBytes: before,
                RssAfterBytes: after);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed(scenario, target, round, 1, "timed out (the run's time bound passed)");
        }
        catch (HttpRequestException exception)
        {
            return Failed(scenario, target, round, 1, $"control API: {exception.Message}");
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket?.Dispose();
            }
        }
    }

    /// <summary>
    /// A connected client; a <c>wss://</c> one trusts the run's authority alone (<see cref="LoadCertificates.Validate"/>),
    /// never any certificate.
    /// </summary>
    private static async Task<ClientWebSocket> ConnectAsync(Uri uri, LoadCertificates? certificates, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.Proxy = null;
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        if (uri.Scheme == "wss")
        {
            socket.Options.RemoteCertificateValidationCallback = (certificates ?? throw new InvalidOperationException($"{uri.Scheme}:// needs the run's certificate.")).Validate;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_connectTimeout);
        try
        {
            await socket.ConnectAsync(uri, timeout.Token).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static RunSample Failed(Scenario scenario, LoadTarget target, int round, int errors, string error)
        => new(scenario.Name, target.Name, round, 0, 0, 0, 0, null, 0, 0, null, errors, error, Failed: true);

    private readonly record struct Window(long Timestamp, long Messages, long Bytes, double? RelayCpu, double LoadCpu, double IdleRelayCpu, double? MachineBusy)
    {
        public static Window Take(AttachWorker[] workers, IProxyProcess? relay, IReadOnlyList<IProxyProcess> idleRelays)
        {
            long messages = 0;
            long bytes = 0;
            foreach (var worker in workers)
            {
                messages += worker.Messages;
                bytes += worker.Bytes;
            }

            return Take(messages, bytes, relay, idleRelays);
        }

        /// <summary>CPU seconds the rest of the machine used between two windows: all of it, less this tool and the relays.</summary>
        public static double? OtherCpu(Window start, Window end)
            => end.MachineBusy - start.MachineBusy - (end.RelayCpu ?? 0) + (start.RelayCpu ?? 0) - (end.LoadCpu - start.LoadCpu) - (end.IdleRelayCpu - start.IdleRelayCpu);

        public static Window Take(long messages, long bytes, IProxyProcess? relay, IReadOnlyList<IProxyProcess> idleRelays)
        {
            return new Window(
                Stopwatch.GetTimestamp(),
                messages,
                bytes,
                relay?.CpuSeconds(),
                ProcStat.CpuSeconds(Environment.ProcessId) ?? 0,
                idleRelays.Sum(r => r.CpuSeconds() ?? 0),
                ProcStat.MachineBusySeconds());
        }
    }
}
