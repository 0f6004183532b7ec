using System.Globalization;
using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

internal sealed partial class FleetSync
{
    /// <summary>Pings remembered by sequence number: a ping older than 64 intervals confirms nothing useful.</summary>
    private const int PingSlots = 64;

    /// <summary>Pings in flight at most: while Redis hangs (SIGSTOP), new ones would only queue up behind the old.</summary>
    private const int MaxPingsInFlight = 4;

    private static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(1);

    private readonly long[] _pingSequence = new long[PingSlots];
    private readonly long[] _pingSent = new long[PingSlots];
    private long _nextPing;
    private int _pingsInFlight;

    private async Task PingLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_settings.ConfirmInterval, _time);
        var lastPrune = _time.GetTimestamp();
        try
        {
            do
            {
                SendPing();
                if (_time.GetElapsedTime(lastPrune) >= PruneInterval)
                {
                    lastPrune = _time.GetTimestamp();
                    _view.Prune(_time.GetUtcNow().ToUnixTimeSeconds());
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Sends a ping (it also tells the fleet this node is alive); never waits for it.</summary>
    private void SendPing()
    {
        if (Interlocked.Increment(ref _pingsInFlight) > MaxPingsInFlight)
        {
            Interlocked.Decrement(ref _pingsInFlight);
            return;
        }

        var sequence = Interlocked.Increment(ref _nextPing);
        var slot = (int)(sequence % PingSlots);
        Volatile.Write(ref _pingSent[slot], _time.GetTimestamp());
        Volatile.Write(ref _pingSequence[slot], sequence);
        _ = PingAsync(sequence);
    }

    private async Task PingAsync(long sequence)
    {
        try
        {
            await _writer.PingAsync(sequence, _settings.NodeTimeout);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException or ObjectDisposedException)
        {
            RedisLog.PingFailed(_logger, exception.GetType().Name);
        }
        finally
        {
            Interlocked.Decrement(ref _pingsInFlight);
        }
    }

    /// <summary>This node's ping came back through the channel: fresh as of its sending, if nothing was missed.</summary>
    private void OnOwnPing(FleetMessage message)
    {
        if (!long.TryParse(message.Fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            return;
        }

        var slot = (int)(sequence % PingSlots);
        if (Volatile.Read(ref _pingSequence[slot]) != sequence)
        {
            return;
        }

        var sent = Volatile.Read(ref _pingSent[slot]);
        if (message.Version <= _applied)
        {
            _view.MarkFresh(sent);
        }
        else
        {
            RequestResync(ResyncReason.Gap);
        }
    }
}
