namespace Bctrl.Relay.State;

/// <summary>The one reading of a record into a <see cref="LeaseStanding"/>, for every store.</summary>
internal static class LeaseStandings
{
    /// <param name="recordRuntimeId">The runtime the record names; null when there is no record.</param>
    /// <param name="deleted">Whether the record says deleted.</param>
    /// <param name="runtimeId">The runtime the token names.</param>
    public static LeaseStanding Of(string? recordRuntimeId, bool deleted, string runtimeId)
        => recordRuntimeId is null ? LeaseStanding.Unknown
            : deleted ? LeaseStanding.Deleted
            : !string.Equals(recordRuntimeId, runtimeId, StringComparison.Ordinal) ? LeaseStanding.OtherRuntime
            : LeaseStanding.Active;
}
