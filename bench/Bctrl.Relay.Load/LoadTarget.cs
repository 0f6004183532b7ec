namespace Bctrl.Relay.Load;

/// <summary>Where the scenarios connect: straight to the fake runtime, or through one relay process.</summary>
internal sealed class LoadTarget(string name, FakeRuntime runtime, RelayProcess? relay)
{
    public string Name { get; } = name;

    public RelayProcess? Relay { get; } = relay;

    /// <summary>The WebSocket URL for one run's attaches: the runtime's browser socket, or a fresh lease's endpoint.</summary>
    public async Task<Uri> EndpointAsync(CancellationToken cancellationToken)
        => Relay is null ? runtime.BrowserSocketUrl : await Relay.CreateLeaseAsync(cancellationToken).ConfigureAwait(false);
}
