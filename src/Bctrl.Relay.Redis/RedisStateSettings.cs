using StackExchange.Redis;

namespace Bctrl.Relay.Redis;

/// <summary>
/// What the Redis stores need from the relay's configuration (docs/design.md §5, §8). The host maps its options here, so this
/// project does not depend on the host.
/// </summary>
/// <param name="Configuration">The StackExchange.Redis configuration string (<c>Relay:Redis</c>).</param>
/// <param name="KeyPrefix">Prefix of every key and of the channel (<c>Relay:Fleet:KeyPrefix</c>).</param>
/// <param name="MaxStaleness">An older revocation view refuses new attaches; also bounds every Redis read on the attach path.</param>
/// <param name="ConfirmInterval">How often the node confirms its view through the channel and says it is alive.</param>
/// <param name="NodeTimeout">A node not heard from this long no longer counts toward live attaches.</param>
/// <param name="ConnectionRetention">How long a lease record outlives its expiry, so that a GET can still say "expired".</param>
/// <param name="RevocationGrace">How long a revocation outlives its lease's expiry (clock skew between nodes).</param>
internal sealed record RedisStateSettings(
    string Configuration,
    string KeyPrefix,
    TimeSpan MaxStaleness,
    TimeSpan ConfirmInterval,
    TimeSpan NodeTimeout,
    TimeSpan ConnectionRetention,
    TimeSpan RevocationGrace)
{
    /// <summary>Whether <paramref name="configuration"/> parses as a StackExchange.Redis configuration string.</summary>
    public static bool IsValidConfiguration(string configuration)
    {
        try
        {
            return ConfigurationOptions.Parse(configuration).EndPoints.Count > 0;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>1 to 32 characters that cannot open or close a hash tag: letters, digits, '_', '-', '.', ':'.</summary>
    public static bool IsValidKeyPrefix(string? prefix)
        => prefix is { Length: >= 1 and <= 32 } && prefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':');
}
