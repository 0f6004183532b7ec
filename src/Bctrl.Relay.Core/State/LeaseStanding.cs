namespace Bctrl.Relay.State;

/// <summary>What a lease's record says about admitting it (<see cref="IConnectionStore.CheckAsync"/>).</summary>
internal enum LeaseStanding
{
    /// <summary>The record exists, for the runtime the token names, and is not deleted. Expiry is the token's to judge.</summary>
    Active,

    /// <summary>No record: the lease was never created here, or the store lost it (Redis restarted empty).</summary>
    Unknown,

    /// <summary>The record says deleted.</summary>
    Deleted,

    /// <summary>The record names another runtime than the token.</summary>
    OtherRuntime,

    /// <summary>The store did not answer within its bound: nothing can be said.</summary>
    Unavailable,
}
