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
        Scenario scenario, LoadTarget target, IReadOnlyList<RelayProcess> idleRelays, int round, TimeSpan warmup, TimeSpan measure,
        CancellationToken cancellationToken)
    {
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
                    sockets[i] = await ConnectAsync(uri, token).ConfigureAwait(false);
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
            var start = Window.Take(workers, target.Relay, idleRelays);
            await Task.Delay(measure, token).ConfigureAwait(false);
            var end = Window.Take(workers, target.Relay, idleRelays);

            foreach (var worker in workers)
            {
                worker.Stop();
            }

            await Task.WhenAll(running).ConfigureAwait(false);
            await Task.WhenAll(workers.Select(w => w.CloseAsync())).ConfigureAwait(false);

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
                end.MachineBusy - start.MachineBusy - (end.RelayCpu ?? 0) + (start.RelayCpu ?? 0) - (end.LoadCpu - start.LoadCpu) - (end.IdleRelayCpu - start.IdleRelayCpu),
                errors.Length,
                errors.FirstOrDefault(),
                Failed: end.Messages == start.Messages);
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

    private static async Task<ClientWebSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.Proxy = null;
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
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
        public static Window Take(AttachWorker[] workers, RelayProcess? relay, IReadOnlyList<RelayProcess> idleRelays)
        {
            long messages = 0;
            long bytes = 0;
            foreach (var worker in workers)
            {
                messages += worker.Messages;
                bytes += worker.Bytes;
            }

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
