using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

/// <summary>
/// Key and channel names. Everything the revocation view reads in one snapshot shares the hash tag <c>{prefix}</c>, so
/// that the Lua scripts touching it run on one Redis Cluster shard; a lease record has its own tag (its id) and the
/// lease index of a runtime another (the runtime id), so leases spread over the shards.
/// <code>
/// {bctrl}:epoch         string  random id of this Redis's copy of the fleet state (changes when Redis loses it)
/// {bctrl}:ver           string  version, INCR by every change of the view
/// {bctrl}:rev           zset    connection id (32 hex) → prune-after (Unix s): every revocation
/// {bctrl}:rev:term      zset    the same, for revocations that also terminate live attaches
/// {bctrl}:runtimes      hash    runtime id → "createdAtUnixMs cdpUrl"
/// {bctrl}:nodes         zset    node id → last heard (Unix ms)
/// {bctrl}:fleet         channel the view's changes, in version order, and the nodes' pings
/// bctrl:conn:{id}       hash    one lease: rt, p, c, e, d, and n:NODE = "sequence live total" per node
/// bctrl:rt:{runtime}:conns zset connection id → created (Unix ms)
/// bctrl:rt:{runtime}:events stream the runtime's observation records, capped with MAXLEN ~
/// bctrl:conn:{id}:attaches  hash attach id → attach metadata (JSON)
/// bctrl:rt:{runtime}:artifacts      zset artifact id → created (Unix ms)
/// bctrl:rt:{runtime}:artifact:{id}  hash m: the artifact's record (JSON), b: its bytes
/// </code>
/// </summary>
internal sealed class RedisKeys
{
    private readonly string _tag;
    private readonly string _connectionPrefix;
    private readonly string _runtimePrefix;

    public RedisKeys(string prefix)
    {
        _tag = "{" + prefix + "}";
        _connectionPrefix = prefix + ":conn:{";
        _runtimePrefix = prefix + ":rt:{";
        Fleet = [_tag + ":epoch", _tag + ":ver", _tag + ":rev", _tag + ":rev:term", _tag + ":runtimes", _tag + ":nodes"];
        ChannelName = _tag + ":fleet";
        Channel = RedisChannel.Literal(ChannelName);
    }

    /// <summary>The keys every fleet script takes, in this order: epoch, ver, rev, rev:term, runtimes, nodes.</summary>
    public RedisKey[] Fleet { get; }

    public RedisKey Runtimes => Fleet[4];

    public RedisKey Nodes => Fleet[5];

    public string ChannelName { get; }

    public RedisChannel Channel { get; }

    public RedisKey Connection(Guid connectionId) => _connectionPrefix + connectionId.ToString("N") + "}";

    public RedisKey RuntimeConnections(string runtimeId) => _runtimePrefix + runtimeId + "}:conns";

    public RedisKey RuntimeEvents(string runtimeId) => _runtimePrefix + runtimeId + "}:events";

    public RedisKey RuntimeArtifacts(string runtimeId) => _runtimePrefix + runtimeId + "}:artifacts";

    /// <summary>One artifact; the same hash tag as its runtime's index, so the save script touches one shard.</summary>
    public RedisKey Artifact(string runtimeId, string artifactId) => ArtifactPrefix(runtimeId) + artifactId;

    public string ArtifactPrefix(string runtimeId) => _runtimePrefix + runtimeId + "}:artifact:";

    public RedisKey ConnectionAttaches(Guid connectionId) => _connectionPrefix + connectionId.ToString("N") + "}:attaches";

    /// <summary>Set by the first node to restore runtimes after Redis lost the state of <paramref name="lostEpoch"/>.</summary>
    public RedisKey Reseeded(string lostEpoch) => _tag + ":reseeded:" + lostEpoch;
}
