using System.Globalization;
using Bctrl.Relay.Hosting;
using Bctrl.Relay.Leases;
using Bctrl.Relay.Redis;
using Bctrl.Relay.Splice;

namespace Bctrl.Relay.Options;

/// <summary>
/// The <c>Relay</c> configuration section (docs/design.md §8). Every property documents its default; <see cref="Validate"/>
/// throws on a value the relay cannot run with, naming the key but never a secret.
/// </summary>
internal sealed class RelayOptions
{
    public const string SectionName = "Relay";

    /// <summary>Base of every endpoint URL handed out. Default: the first listen URL, as <c>ws://</c>.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>When set (semicolon-separated), the control API, <c>/metrics</c> and health answer only on these listeners.</summary>
    public string? ManagementUrls { get; set; }

    /// <summary>Bearer key of the control API. Default: generated for the process and printed (not in Production).</summary>
    public string? ControlApiKey { get; set; }

    /// <summary>The key ring; entry 0 signs. Default: one key generated for the process (not in Production).</summary>
    public List<SigningKeyOptions> SigningKeys { get; set; } = [];

    /// <summary>
    /// StackExchange.Redis configuration (<c>host:port,password=…</c>, or several masters of a Redis Cluster): runtimes,
    /// leases and revocations are kept there and shared by every node (docs/design.md §5). Default: unset, in-memory stores.
    /// </summary>
    public string? Redis { get; set; }

    public FleetOptions Fleet { get; set; } = new();

    public RevocationOptions Revocations { get; set; } = new();

    public ConnectionOptions Connections { get; set; } = new();

    public LeaseOptions Leases { get; set; } = new();

    public LimitOptions Limits { get; set; } = new();

    public KeepAliveOptions KeepAlive { get; set; } = new();

    public DevRuntimeOptions DevRuntime { get; set; } = new();

    public SpliceOptions Splice { get; set; } = new();

    public ObservationOptions Observation { get; set; } = new();

    /// <summary>What leases with <c>record.artifacts</c> keep, and where (docs/artifacts.md).</summary>
    public ArtifactOptions Artifacts { get; set; } = new();

    public LogOptions Log { get; set; } = new();

    public TlsOptions Tls { get; set; } = new();

    /// <summary>
    /// Who owns the sockets (docs/design.md §11): <c>Relay</c>, the relay transport (its own listeners, with the
    /// connection budget answered 503 <c>at_capacity</c> and back-off when the system refuses descriptors; its own
    /// I/O loops, on which an upgraded connection is detached from Kestrel and spliced) or <c>Sockets</c> (Kestrel's
    /// Sockets transport, kept as the fallback and for measurement: the same connection limit, but connections over
    /// it are closed unanswered and a process out of descriptors retries its accepts at once; the splice runs on
    /// Kestrel's pipes). Default <c>Relay</c> on Linux; other systems always use <c>Sockets</c>.
    /// </summary>
    public ListenerTransport Transport { get; set; } = ListenerTransport.Relay;

    /// <summary>The relay transport's I/O loop threads; 0 (the default) is one per core.</summary>
    public int IoLoops { get; set; }

    /// <summary>The transport in effect: the relay transport needs Linux.</summary>
    public ListenerTransport EffectiveTransport => Transport == ListenerTransport.Relay && Loops.LinuxSockets.IsSupported
        ? ListenerTransport.Relay
        : ListenerTransport.Sockets;

    public void Validate()
    {
        if (PublicBaseUrl is not null
            && (!Uri.TryCreate(PublicBaseUrl, UriKind.Absolute, out var publicBase) || publicBase.Scheme is not ("ws" or "wss")))
        {
            throw new InvalidOperationException("Relay:PublicBaseUrl must be an absolute ws:// or wss:// URL.");
        }

        Tls.Validate();
        if (IoLoops is < 0 or > 256)
        {
            throw new InvalidOperationException("Relay:IoLoops must be between 0 (one per core) and 256" + Got(IoLoops));
        }

        if (ControlApiKey is { Length: < 16 })
        {
            throw new InvalidOperationException("Relay:ControlApiKey must be at least 16 characters.");
        }

        for (var i = 0; i < SigningKeys.Count; i++)
        {
            var key = SigningKeys[i];
            if (string.IsNullOrWhiteSpace(key.Id) || string.IsNullOrWhiteSpace(key.Secret))
            {
                throw new InvalidOperationException($"Relay:SigningKeys:{i} needs both Id and Secret.");
            }

            if (!LeaseKeyRing.IsValidKeyId(key.Id))
            {
                throw new InvalidOperationException(
                    $"Relay:SigningKeys:{i}:Id must be 1 to {LeaseKeyRing.MaxKeyIdLength} characters of A-Z a-z 0-9 '-' '_'.");
            }

            if (SigningKeys.Take(i).Any(other => other.Id == key.Id))
            {
                throw new InvalidOperationException($"Relay:SigningKeys:{i}:Id repeats the id of an earlier key.");
            }

            if (!TryDecodeSecret(key.Secret, out var secret) || secret.Length < 32)
            {
                throw new InvalidOperationException($"Relay:SigningKeys:{i}:Secret must be base64 of at least 32 bytes.");
            }
        }

        if (!string.IsNullOrWhiteSpace(ManagementUrls))
        {
            foreach (var url in ManagementUrls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!Uri.TryCreate(ListenerRoles.Normalize(url), UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https") || parsed.Port == 0)
                {
                    throw new InvalidOperationException("Relay:ManagementUrls must be ';'-separated http:// or https:// URLs with fixed ports.");
                }
            }
        }

        if (!string.IsNullOrWhiteSpace(Redis) && !RedisStateSettings.IsValidConfiguration(Redis))
        {
            // Never echoed: the string may hold a password.
            throw new InvalidOperationException("Relay:Redis must be a StackExchange.Redis configuration string naming at least one endpoint.");
        }

        if (!RedisStateSettings.IsValidKeyPrefix(Fleet.KeyPrefix))
        {
            throw new InvalidOperationException("Relay:Fleet:KeyPrefix must be 1 to 32 characters of A-Z a-z 0-9 '_' '-' '.' ':'.");
        }

        Positive(Revocations.MaxStaleness, "Relay:Revocations:MaxStaleness");
        Positive(Revocations.ConfirmInterval, "Relay:Revocations:ConfirmInterval");
        Positive(Fleet.NodeTimeout, "Relay:Fleet:NodeTimeout");
        if (!string.IsNullOrWhiteSpace(Redis) && Revocations.ConfirmInterval >= Revocations.MaxStaleness)
        {
            // A view confirmed less often than it goes stale would flap between ready and not ready.
            throw new InvalidOperationException("Relay:Revocations:ConfirmInterval must be shorter than Relay:Revocations:MaxStaleness.");
        }

        if (!string.IsNullOrWhiteSpace(Redis) && Fleet.NodeTimeout < 2 * Revocations.ConfirmInterval)
        {
            throw new InvalidOperationException("Relay:Fleet:NodeTimeout must be at least twice Relay:Revocations:ConfirmInterval.");
        }

        Positive(Connections.DefaultTtl, "Relay:Connections:DefaultTtl");
        Positive(Connections.MaxTtl, "Relay:Connections:MaxTtl");
        if (Connections.DefaultTtl > Connections.MaxTtl)
        {
            throw new InvalidOperationException("Relay:Connections:DefaultTtl must not exceed Relay:Connections:MaxTtl.");
        }

        if (Leases.ClockSkew < TimeSpan.Zero || Leases.ClockSkew > TimeSpan.FromMinutes(5))
        {
            throw new InvalidOperationException("Relay:Leases:ClockSkew must be between 0 and 5 minutes" + Got(Leases.ClockSkew));
        }

        if (Limits.MaxMessageBytes < 1024)
        {
            throw new InvalidOperationException("Relay:Limits:MaxMessageBytes must be at least 1024" + Got(Limits.MaxMessageBytes));
        }

        if (Limits.MaxAttaches < 0)
        {
            throw new InvalidOperationException("Relay:Limits:MaxAttaches must be 0 (no limit) or more" + Got(Limits.MaxAttaches));
        }

        if (Limits.MaxConnections < 0)
        {
            throw new InvalidOperationException("Relay:Limits:MaxConnections must be 0 (derived from the file limit) or more" + Got(Limits.MaxConnections));
        }

        if (Limits.MaxDiscoveryBytes < 1024)
        {
            throw new InvalidOperationException("Relay:Limits:MaxDiscoveryBytes must be at least 1024" + Got(Limits.MaxDiscoveryBytes));
        }

        Positive(Limits.IdleConnectionTimeout, "Relay:Limits:IdleConnectionTimeout");
        Positive(Limits.RequestHeadersTimeout, "Relay:Limits:RequestHeadersTimeout");
        Positive(Log.RefusalSummaryInterval, "Relay:Log:RefusalSummaryInterval");
        Positive(Limits.HandshakeTimeout, "Relay:Limits:HandshakeTimeout");
        Positive(Limits.StallTimeout, "Relay:Limits:StallTimeout");
        Positive(Limits.CloseTimeout, "Relay:Limits:CloseTimeout");
        Positive(KeepAlive.Interval, "Relay:KeepAlive:Interval");
        Positive(KeepAlive.Timeout, "Relay:KeepAlive:Timeout");
        Observation.Validate();
        Artifacts.Validate();
        if (Artifacts.Store == ArtifactStoreKind.Redis && string.IsNullOrWhiteSpace(Redis))
        {
            throw new InvalidOperationException("Relay:Artifacts:Store Redis needs Relay:Redis.");
        }
    }

    public SpliceSettings ToSpliceSettings() => new(
        Limits.MaxMessageBytes, KeepAlive.Interval, KeepAlive.Timeout, Limits.StallTimeout, Limits.CloseTimeout);

    /// <summary>The configured ring, or null when none is configured.</summary>
    public LeaseKeyRing? BuildKeyRing()
    {
        if (SigningKeys.Count == 0)
        {
            return null;
        }

        return new LeaseKeyRing(SigningKeys.Select(k =>
        {
            TryDecodeSecret(k.Secret!, out var secret);
            return new SigningKey(k.Id!, secret);
        }).ToArray());
    }

    private static bool TryDecodeSecret(string? text, out byte[] secret)
    {
        secret = [];
        if (text is null)
        {
            return false;
        }

        var buffer = new byte[text.Length];
        if (!Convert.TryFromBase64String(text, buffer, out var length))
        {
            return false;
        }

        secret = buffer[..length];
        return true;
    }

    /// <summary>
    /// The rejected value, for a number or a time span only: those cannot be a secret, while a string key may hold one
    /// pasted into the wrong place.
    /// </summary>
    internal static string Got<T>(T value)
        where T : IFormattable => string.Create(CultureInfo.InvariantCulture, $" (got {value}).");

    private static void Positive(TimeSpan value, string key)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"{key} must be greater than zero" + Got(value));
        }
    }
}

internal sealed class SigningKeyOptions
{
    public string? Id { get; set; }

    public string? Secret { get; set; }
}

internal sealed class RevocationOptions
{
    /// <summary>An older revocation view refuses new attaches (503 <c>revocations_stale</c>). Default 5 s.</summary>
    public TimeSpan MaxStaleness { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// With Redis: how often a node confirms its view (a ping of its own through the revocation channel); the view's
    /// age stays under this plus a round trip while Redis is healthy. Must be shorter than <see cref="MaxStaleness"/>.
    /// Default 1 s.
    /// </summary>
    public TimeSpan ConfirmInterval { get; set; } = TimeSpan.FromSeconds(1);
}

internal sealed class FleetOptions
{
    /// <summary>
    /// Prefix of every Redis key and of the channel; also the Redis Cluster hash tag of the revocation view. Fleets
    /// sharing one Redis use different prefixes. Default <c>bctrl</c>.
    /// </summary>
    public string KeyPrefix { get; set; } = "bctrl";

    /// <summary>
    /// A node not heard from this long (it pings every <see cref="RevocationOptions.ConfirmInterval"/>) no longer counts
    /// toward a connection's live attaches: a node that died does not hold counts up. Default 15 s.
    /// </summary>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(15);
}

internal sealed class ConnectionOptions
{
    /// <summary>Lease lifetime when the request names none. Default 5 minutes.</summary>
    public TimeSpan DefaultTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Longest lease lifetime a request may ask for. Default 1 hour.</summary>
    public TimeSpan MaxTtl { get; set; } = TimeSpan.FromHours(1);
}

internal sealed class LeaseOptions
{
    /// <summary>Clock skew tolerated on issued-at and expiry, across nodes. Default 5 s.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(5);
}

internal sealed class LimitOptions
{
    /// <summary>A larger message closes the attach with 1009. Default 256 MiB, the clients' own limit.</summary>
    public long MaxMessageBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Live attaches per node; more are refused with 503 <c>at_capacity</c>. Default 0: no limit.</summary>
    public int MaxAttaches { get; set; }

    /// <summary>
    /// Client connections the data-plane listeners hold at once; one more is answered 503 <c>at_capacity</c> and closed.
    /// Default 0: derived (README, "Reliability"): half of the descriptors left after a reserve for the process's own
    /// files, Redis, discovery and the management listener (every attach also holds a runtime socket), and no more
    /// than 64 KiB of the process's memory limit per connection.
    /// </summary>
    public int MaxConnections { get; set; }

    /// <summary>
    /// A connection that has sent no request for this long (a new one that sends nothing, or a kept-alive one between
    /// requests) is closed. Default 10 s (Kestrel's own default is 130 s).
    /// </summary>
    public TimeSpan IdleConnectionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A request (an upgrade included) whose headers have not all arrived this long after it began is answered 408 and closed. Default 10 s.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A runtime discovery document larger than this is refused with 502 <c>bad_upstream_discovery</c>. Default 8 MiB.</summary>
    public long MaxDiscoveryBytes { get; set; } = 8L * 1024 * 1024;

    /// <summary>Dialing the runtime and its handshake, together. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A write that makes no progress this long closes the attach (4003). Default 60 s.</summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the relay waits for a peer's answer to its own close. Default 2 s.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(2);
}

internal sealed class LogOptions
{
    /// <summary>
    /// Refused attaches are counted in metrics and logged as one summary line per this interval at most (a bad-token
    /// flood must not become a log flood). Default 10 s.
    /// </summary>
    public TimeSpan RefusalSummaryInterval { get; set; } = TimeSpan.FromSeconds(10);
}

internal sealed class KeepAliveOptions
{
    /// <summary>Ping to the client this often. Default 20 s.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>A client silent this long after a ping is closed with 4002. Default 20 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(20);
}

internal sealed class SpliceOptions
{
    /// <summary>
    /// How the client side is reached after the upgrade: <c>Pipes</c> (Kestrel's transport pipes, no copy) or
    /// <c>Stream</c> (the upgraded stream wrapped in pipes, one copy each way). Default <c>Pipes</c>; <c>Stream</c>
    /// exists so the benchmarks can measure the difference (bench/README.md).
    /// </summary>
    public ClientTransport ClientTransport { get; set; } = ClientTransport.Pipes;

    /// <summary>
    /// Run the splice on the socket threads that saw the bytes: Kestrel's <c>UnsafePreferInlineScheduling</c> and the
    /// runtime's inline socket completions (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>, set for the
    /// process unless already set), instead of a thread-pool hop per read, per flush and per runtime completion.
    /// Unset (the default): on with the in-memory stores, off when <c>Relay:Redis</c> is set. Inline completions are
    /// process-wide, so StackExchange.Redis's completions then run on the socket threads too, and in the SIGSTOP test
    /// a paused Redis delayed attaches (slowest 129–767 ms against 12–20 ms with inline completions off): a live attach
    /// must never wait on Redis. bench/README.md has the figures behind both.
    /// </summary>
    public bool? InlineIo { get; set; }

    /// <summary>Whether <see cref="InlineIo"/> is in effect, given whether Redis is configured.</summary>
    public bool InlineIoFor(bool redisConfigured) => InlineIo ?? !redisConfigured;
}

internal enum ListenerTransport
{
    Relay,
    Sockets,
}

internal enum ClientTransport
{
    Pipes,
    Stream,
}

internal sealed class DevRuntimeOptions
{
    /// <summary>Path of a Chromium to start as runtime <c>local</c>. Default: found on the machine, in Development only.</summary>
    public string? Chromium { get; set; }

    /// <summary>Set false to never start one. Default true.</summary>
    public bool Enabled { get; set; } = true;
}
