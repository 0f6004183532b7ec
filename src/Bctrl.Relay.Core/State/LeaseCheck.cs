namespace Bctrl.Relay.State;

/// <summary>
/// The attach gate's reading of a lease's record (<see cref="IConnectionStore.CheckAsync"/>): its standing, and the
/// policy the record carries in its stored form (docs/policy.md), read in the same round trip.
/// </summary>
internal readonly record struct LeaseCheck(LeaseStanding Standing, string? Policy = null);
