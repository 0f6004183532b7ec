using BenchmarkDotNet.Attributes;
using Bctrl.Relay.Leases;

namespace Bctrl.Relay.Benchmarks;

/// <summary>
/// Lease tokens on the attach path (docs/design.md §3): Verify must allocate nothing and take about a microsecond;
/// Issue runs once per lease on the control API and allocates the token string only.
/// </summary>
[MemoryDiagnoser]
public class LeaseTokenBenchmarks
{
    private const string RuntimeId = "7d4c2a1e-55b0-4c8e-9e0b-3f1f4a2d6c88";

    private readonly byte[] _scratch = new byte[LeaseTokens.ScratchBytes];
    private LeaseTokens _tokens = null!;
    private LeaseClaims _claims;
    private string _token = null!;

    [GlobalSetup]
    public void Setup()
    {
        // Two keys, the token signed by the second: the ring lookup walks past the current key, as during a rotation.
        var current = new SigningKey("k2025-06", Enumerable.Repeat((byte)0x5a, 32).ToArray());
        var previous = new SigningKey("k2025-05", Enumerable.Repeat((byte)0xa5, 32).ToArray());
        var now = DateTimeOffset.UtcNow;
        _claims = new LeaseClaims(Guid.NewGuid(), RuntimeId, LeaseProtocol.Cdp, now, now.AddHours(1));
        _token = new LeaseTokens(new LeaseKeyRing([previous]), TimeProvider.System, TimeSpan.FromSeconds(30)).Issue(_claims);
        _tokens = new LeaseTokens(new LeaseKeyRing([current, previous]), TimeProvider.System, TimeSpan.FromSeconds(30));
        if (Verify() != 0)
        {
            throw new InvalidOperationException("The benchmark token does not verify.");
        }
    }

    /// <returns>The <see cref="LeaseVerifyResult"/> as an int (the enum is internal), 0 for Valid.</returns>
    [Benchmark]
    public int Verify() => (int)_tokens.Verify(_token, _scratch, out _);

    [Benchmark]
    public string Issue() => _tokens.Issue(_claims);
}
