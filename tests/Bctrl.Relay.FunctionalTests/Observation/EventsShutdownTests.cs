using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Bctrl.Relay.FunctionalTests.Observation;

/// <summary>An operator watching a run must not hold the relay up when it stops (docs/design.md §4 item 5: the relay drains).</summary>
public sealed class EventsShutdownTests
{
    [Fact(Timeout = 30_000)]
    public async Task An_open_event_stream_ends_when_the_relay_starts_stopping()
    {
        // Kestrel's graceful stop waits for open requests until the host's shutdown timeout; an event stream that
        // ignores ApplicationStopping is held open that whole time (30 s by default, 15 s in RelayServer), then cut.
        await using var rig = await ObservationRig.StartAsync();
        await using (var reader = await rig.OpenEventsAsync())
        {
            rig.Relay.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

            var ended = await Record.ExceptionAsync(() => reader.ReadAsync(TimeSpan.FromSeconds(3)));

            Assert.True(ended is EndOfStreamException, $"the event stream was still open 3 s after the relay began stopping ({ended?.GetType().Name})");
        }
    }
}
