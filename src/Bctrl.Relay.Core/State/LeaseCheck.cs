namespace Bctrl.Relay.State;

/// <summary>
/// The attach gate's reading of a lease's record (<see cref="IConnectionStore.CheckAsync"/>): its standing, and the
/// policy and quotas the record carries in their stored forms (docs/policy.md, docs/quotas.md), and whether it keeps
/// artifacts (docs/artifacts.md), read in the same round trip.
/// </summary>
internal readonly record struct LeaseCheck(LeaseStanding Standing, string? Policy = null, string? Quotas = null, bool Artifacts = false);
