namespace Bctrl.Relay.State;

/// <summary>Runtimes by id. In memory for the embedded default; Redis for a fleet.</summary>
internal interface IRuntimeStore
{
    ValueTask<RuntimeRecord?> GetAsync(string runtimeId, CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<RuntimeRecord>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Creates or replaces; returns true when it created.</summary>
    ValueTask<bool> PutAsync(RuntimeRecord runtime, CancellationToken cancellationToken);

    /// <summary>Returns false when there was no such runtime.</summary>
    ValueTask<bool> DeleteAsync(string runtimeId, CancellationToken cancellationToken);
}
