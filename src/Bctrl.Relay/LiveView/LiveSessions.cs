using System.Net.WebSockets;
using Bctrl.Relay.Attach;
using Bctrl.Relay.Metrics;
using Bctrl.Relay.Tls;

namespace Bctrl.Relay.LiveView;

/// <summary>
/// The node's live sessions, one per live lease being viewed here (docs/live-view.md). Viewers join and leave under one
/// lock, taken only then and on terminate or drain, never per frame. Terminate and drain close viewers on the same
/// signals that close attaches (<see cref="AttachRegistry"/>).
/// </summary>
internal sealed class LiveSessions(RuntimeAddresses addresses, RuntimeTrust trust, LiveViewMetrics metrics, ILogger<LiveSessions> logger)
{
    private readonly Dictionary<Guid, LiveSession> _sessions = [];
    private readonly Lock _lock = new();
    private bool _draining;

    /// <summary>Sessions running now (one runtime CDP connection each).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _sessions.Count;
            }
        }
    }

    /// <summary>Adds the viewer to its lease's session, starting one if none runs; null once the node is draining.</summary>
    public LiveSession? Join(AdmittedLease lease, LiveViewer viewer)
    {
        LiveSession session;
        int viewers;
        lock (_lock)
        {
            if (_draining)
            {
                return null;
            }

            if (!_sessions.TryGetValue(lease.ConnectionId, out var running) || running.IsEnding)
            {
                running = new LiveSession(lease.ConnectionId, lease.Runtime, addresses, trust, metrics, logger, Ended);
                _sessions[lease.ConnectionId] = running;
                running.Start();
            }

            session = running;
            viewers = session.Add(viewer);
        }

        metrics.ViewerJoined();
        LiveViewLog.ViewerJoined(logger, lease.ConnectionId, viewers);
        return session;
    }

    /// <summary>Takes the viewer out; the session stops with its last viewer.</summary>
    public void Leave(LiveSession session, LiveViewer viewer)
    {
        int left;
        lock (_lock)
        {
            left = session.Remove(viewer);
            if (left == 0)
            {
                if (_sessions.TryGetValue(session.ConnectionId, out var current) && current == session)
                {
                    _sessions.Remove(session.ConnectionId);
                }

                session.Stop();
            }
        }

        metrics.ViewerLeft();
        LiveViewLog.ViewerLeft(logger, session.ConnectionId, left);
    }

    /// <summary>Closes every viewer of one connection with 4001, as a terminated attach is; returns how many.</summary>
    public int Terminate(Guid connectionId)
    {
        LiveViewer[] viewers;
        lock (_lock)
        {
            viewers = _sessions.TryGetValue(connectionId, out var session) ? session.Viewers : [];
        }

        foreach (var viewer in viewers)
        {
            viewer.Close((WebSocketCloseStatus)Splice.CloseCodes.LeaseTerminated, "lease terminated");
        }

        if (viewers.Length > 0)
        {
            LiveViewLog.Terminated(logger, viewers.Length, connectionId);
        }

        return viewers.Length;
    }

    /// <summary>Refuses new viewers from now on and closes the connected ones with 1001, as attaches are.</summary>
    public void Drain()
    {
        LiveViewer[] viewers;
        lock (_lock)
        {
            _draining = true;
            viewers = [.. _sessions.Values.SelectMany(session => session.Viewers)];
        }

        foreach (var viewer in viewers)
        {
            viewer.Close(WebSocketCloseStatus.EndpointUnavailable, "relay draining");
        }
    }

    private void Ended(LiveSession session)
    {
        lock (_lock)
        {
            if (_sessions.TryGetValue(session.ConnectionId, out var current) && current == session)
            {
                _sessions.Remove(session.ConnectionId);
            }
        }
    }
}
