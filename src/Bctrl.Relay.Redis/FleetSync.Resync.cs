namespace Bctrl.Relay.Redis;

internal sealed partial class FleetSync
{
    /// <summary>Revocations written back per script call after Redis lost the state: a few tens of KB each.</summary>
    private const int ReseedBatch = 1000;

    private async Task ResyncAsync(ResyncReason reason)
    {
        Volatile.Write(ref _synced, false);
        reason = _epoch is null ? ResyncReason.Start : reason;
        var sent = _time.GetTimestamp();
        var snapshot = await _writer.SnapshotAsync();

        // Another epoch, or an older version of the same one: Redis lost changes this node has seen (it restarted
        // without persistence, or failed over to a replica that was behind). The view keeps what it held and writes it
        // back; dropping revocations because Redis forgot them would open leases that were deleted.
        var lost = _epoch is not null && (snapshot.Epoch != _epoch || snapshot.Version < _applied);
        if (lost)
        {
            reason = ResyncReason.Epoch;
            await ReseedAsync(_epoch!, restoreRuntimes: snapshot.Epoch != _epoch);
            sent = _time.GetTimestamp();
            snapshot = await _writer.SnapshotAsync();
        }

        var newlyTerminated = _view.Replace(snapshot.Revocations, merge: lost);
        _runtimes.Replace(snapshot.Runtimes);
        var first = _epoch is null;
        _epoch = snapshot.Epoch;
        _applied = snapshot.Version;
        Volatile.Write(ref _synced, true);
        _failing = false;
        _version.Set(_applied, reset: true);
        Interlocked.Increment(ref _resyncs[(int)reason]);

        // The snapshot holds every change made before it was asked for.
        _view.MarkFresh(sent);
        RedisLog.Synced(_logger, reason.ToString(), snapshot.Epoch, snapshot.Version, _view.Count, snapshot.Runtimes.Count);

        // A node that starts has no live attaches to terminate; later, terminations this node missed are done now.
        if (!first)
        {
            foreach (var connectionId in newlyTerminated)
            {
                _view.RaiseTerminated(connectionId);
            }
        }

        SendPing();
    }

    private async Task ReseedAsync(string lostEpoch, bool restoreRuntimes)
    {
        var revocations = _view.Entries();
        var runtimes = restoreRuntimes ? _runtimes.Entries() : [];
        RedisLog.Reseeding(_logger, lostEpoch, revocations.Count, runtimes.Count);
        if (revocations.Count == 0 && runtimes.Count == 0)
        {
            return;
        }

        for (var start = 0; start == 0 || start < revocations.Count; start += ReseedBatch)
        {
            var batch = revocations.GetRange(start, Math.Min(ReseedBatch, revocations.Count - start));
            await _writer.ReseedAsync(lostEpoch, batch, start == 0 ? runtimes : []);
        }
    }
}
