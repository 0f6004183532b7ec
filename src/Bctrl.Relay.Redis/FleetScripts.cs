namespace Bctrl.Relay.Redis;

/// <summary>
/// The Lua scripts that change or read the revocation view. Each runs atomically on the shard of <c>{prefix}</c>
/// (KEYS are <see cref="RedisKeys.Fleet"/>), so a change, its version and its message are one step: messages leave in
/// version order, and a snapshot sees exactly the changes up to its version.
/// <para>ARGV[1] is an epoch to create if Redis has none (it lost the state, or never had it), ARGV[2] the channel,
/// ARGV[3] the calling node. Messages are space-separated: <c>kind epoch version node fields…</c>.</para>
/// </summary>
internal static class FleetScripts
{
    private const string Prelude = """
        local epoch = redis.call('GET', KEYS[1])
        if not epoch then
          epoch = ARGV[1]
          redis.call('SET', KEYS[1], epoch)
        end
        local function extend(key, ms)
          ms = math.max(1000, math.floor(ms))
          local current = redis.call('PTTL', key)
          if current == -1 or current < ms then
            redis.call('PEXPIRE', key, ms)
          end
        end
        local function publish(kind, version, rest)
          redis.call('PUBLISH', ARGV[2], kind .. ' ' .. epoch .. ' ' .. version .. ' ' .. ARGV[3] .. rest)
        end

        """;

    /// <summary>
    /// ARGV[4] connection id, [5] prune-after (Unix s), [6] terminate (0/1), [7] now (Unix s). Adds the revocation
    /// (keeping the later prune-after and a terminate flag once set), drops expired ones, publishes
    /// <c>r … id pruneAfter terminate</c>; returns the version.
    /// </summary>
    public const string Revoke = Prelude + """
        local now = tonumber(ARGV[7])
        redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[7])
        redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. ARGV[7])
        local score = tonumber(ARGV[5])
        local previous = redis.call('ZSCORE', KEYS[3], ARGV[4])
        if previous and tonumber(previous) > score then
          score = tonumber(previous)
        end
        redis.call('ZADD', KEYS[3], score, ARGV[4])
        extend(KEYS[3], (score - now) * 1000)
        local terminate = ARGV[6]
        if terminate == '1' then
          redis.call('ZADD', KEYS[4], score, ARGV[4])
          extend(KEYS[4], (score - now) * 1000)
        elseif redis.call('ZSCORE', KEYS[4], ARGV[4]) then
          terminate = '1'
        end
        local version = redis.call('INCR', KEYS[2])
        publish('r', version, ' ' .. ARGV[4] .. ' ' .. string.format('%d', score) .. ' ' .. terminate)
        return version
        """;

    /// <summary>ARGV[4] runtime id, [5] "createdAtUnixMs cdpUrl". Publishes <c>u … id value</c>; returns {created, version}.</summary>
    public const string PutRuntime = Prelude + """
        local created = redis.call('HSET', KEYS[5], ARGV[4], ARGV[5])
        local version = redis.call('INCR', KEYS[2])
        publish('u', version, ' ' .. ARGV[4] .. ' ' .. ARGV[5])
        return {created, version}
        """;

    /// <summary>ARGV[4] runtime id. Publishes <c>d … id</c> when it existed; returns {deleted, version}.</summary>
    public const string DeleteRuntime = Prelude + """
        if redis.call('HDEL', KEYS[5], ARGV[4]) == 0 then
          return {0, tonumber(redis.call('GET', KEYS[2]) or '0')}
        end
        local version = redis.call('INCR', KEYS[2])
        publish('d', version, ' ' .. ARGV[4])
        return {1, version}
        """;

    /// <summary>
    /// ARGV[4] sequence number, [5] now (Unix ms), [6] forget nodes last heard before this (Unix ms). Marks the node
    /// alive and publishes <c>p … seq</c> carrying the current version (not a new one): when the node hears its own
    /// ping with a version it has applied, its view held every change made before the ping was sent.
    /// </summary>
    public const string Ping = Prelude + """
        local version = redis.call('GET', KEYS[2]) or '0'
        redis.call('ZADD', KEYS[6], ARGV[5], ARGV[3])
        redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', '(' .. ARGV[6])
        publish('p', version, ' ' .. ARGV[4])
        return version
        """;

    /// <summary>ARGV[4] now (Unix s). Returns {epoch, version, {id, pruneAfter, …}, {terminated id, …}, {runtime id, value, …}}.</summary>
    public const string Snapshot = Prelude + """
        local version = redis.call('GET', KEYS[2]) or '0'
        return {
          epoch,
          version,
          redis.call('ZRANGEBYSCORE', KEYS[3], ARGV[4], '+inf', 'WITHSCORES'),
          redis.call('ZRANGEBYSCORE', KEYS[4], ARGV[4], '+inf'),
          redis.call('HGETALL', KEYS[5])
        }
        """;

    /// <summary>
    /// After Redis lost the state (a new epoch), a node writes back what its view held. KEYS[7] is the marker of the
    /// lost epoch. ARGV[4] now (Unix s), [5] the lost epoch, [6] n, then n triples (id, pruneAfter, terminate), then
    /// runtime pairs (id, value). Revocations are merged by every node (more revocations are never wrong); runtimes
    /// only by the first node to get here, so that a runtime deleted after the loss does not come back from a slower
    /// node. Publishes <c>b …</c> (bulk change: resync); returns the version.
    /// </summary>
    public const string Reseed = Prelude + """
        local now = tonumber(ARGV[4])
        local count = tonumber(ARGV[6])
        local i = 7
        local latest = now
        for _ = 1, count do
          local id = ARGV[i]
          local score = tonumber(ARGV[i + 1])
          if score >= now then
            local previous = redis.call('ZSCORE', KEYS[3], id)
            if not previous or tonumber(previous) < score then
              redis.call('ZADD', KEYS[3], score, id)
            end
            if ARGV[i + 2] == '1' then
              redis.call('ZADD', KEYS[4], score, id)
            end
            if score > latest then
              latest = score
            end
          end
          i = i + 3
        end
        extend(KEYS[3], (latest - now) * 1000)
        extend(KEYS[4], (latest - now) * 1000)
        if i <= #ARGV and redis.call('SET', KEYS[7], ARGV[5], 'NX', 'EX', 86400) then
          for j = i, #ARGV, 2 do
            redis.call('HSETNX', KEYS[5], ARGV[j], ARGV[j + 1])
          end
        end
        local version = redis.call('INCR', KEYS[2])
        publish('b', version, '')
        return version
        """;
}
