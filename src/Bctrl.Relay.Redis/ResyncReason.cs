namespace Bctrl.Relay.Redis;

/// <summary>Why the revocation view was read whole again (a metric tag).</summary>
internal enum ResyncReason
{
    /// <summary>The node's first snapshot, after subscribing.</summary>
    Start,

    /// <summary>A Redis connection came back: messages may have been lost while it was down.</summary>
    Reconnect,

    /// <summary>A message skipped a version, or this node's ping carried a version it had not seen.</summary>
    Gap,

    /// <summary>Redis has another copy of the state than before (it restarted empty, or failed over to a replica that lost some).</summary>
    Epoch,

    /// <summary>A bulk change (another node wrote back its view).</summary>
    Bulk,

    /// <summary>Messages came faster than the node applied them and some were dropped.</summary>
    Overflow,
}
