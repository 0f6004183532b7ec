using System.IO.Hashing;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FleetTests.Infrastructure;

/// <summary>
/// Round trips through a live attach to the echoing runtime, hashed both ways (XxHash128 of every payload sent and
/// every payload received), so that a test can say nothing was lost, duplicated or changed.
/// </summary>
public sealed class Traffic(AttachClient client, int seed)
{
    private readonly XxHash128 _sent = new();
    private readonly XxHash128 _received = new();
    private readonly Random _random = new(seed);

    public long Messages { get; private set; }

    public long Bytes { get; private set; }

    public async Task RoundTripAsync()
    {
        var payload = new byte[_random.Next(1, 16 * 1024)];
        _random.NextBytes(payload);
        _sent.Append(payload);
        await client.SendAsync(FakeRuntimeFrame.Binary, payload);
        var echo = await client.ReadAsync();
        Assert.Equal(FakeRuntimeFrame.Binary, echo.Opcode);
        _received.Append(echo.Payload);
        Messages++;
        Bytes += payload.Length;
    }

    /// <summary>Round trips until <paramref name="stop"/>, a few milliseconds apart.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await RoundTripAsync();
            try
            {
                await Task.Delay(5, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public void AssertIntact()
    {
        Assert.True(Messages > 0);
        Assert.Equal(_sent.GetCurrentHashAsUInt128(), _received.GetCurrentHashAsUInt128());
    }
}
