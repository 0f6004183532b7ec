namespace Bctrl.Relay.Attach;

/// <summary>
/// Holds the host's shutdown until the drained attaches have ended (docs/design.md §4: drain on SIGTERM). On Kestrel's
/// Sockets transport each attach is a request Kestrel waits for; on the relay transport (issue 9) the request returned
/// at the 101, so nothing else would wait, and the I/O loops would stop under attaches still closing. The wait is
/// bounded by the host's shutdown timeout.
/// </summary>
internal sealed class AttachDrain(AttachRegistry registry) : IHostedService
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Every attach was told to close when the application began stopping (AttachRegistry.Drain).
        try
        {
            while (registry.LiveCount > 0)
            {
                await Task.Delay(Poll, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The shutdown timeout passed: what is still closing is cut off with the process.
        }
    }
}
