using System.Security.Cryptography;
using Bctrl.Relay.Leases;
using Microsoft.Extensions.Time.Testing;
using static Bctrl.Relay.Tests.Leases.LeaseTestData;

namespace Bctrl.Relay.Tests.Leases;

public class LeaseMacTests
{
    [Fact]
    public void Compute_MatchesOneShotHmac_AcrossMoreKeysThanSlots()
    {
        var keys = Enumerable.Range(0, LeaseMac.SlotsPerThread + 3).Select(i => Key($"k{i}", (byte)(i + 1))).ToArray();
        var mac = new byte[32];

        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < keys.Length; i++)
            {
                var data = new byte[i * 37];
                Array.Fill(data, (byte)round);

                LeaseMac.Compute(keys[i], data, mac);

                Assert.Equal(HMACSHA256.HashData(keys[i].Secret, data), mac);
            }
        }
    }

    [Fact]
    public void Verify_FromManyThreadsAtOnce_AgreesWithItself()
    {
        var keys = Enumerable.Range(0, 3).Select(i => Key($"k{i}", (byte)(i + 1))).ToArray();
        var time = new FakeTimeProvider(Now);
        var rings = keys.Select(k => Tokens(Ring(k), time)).ToArray();
        var verifier = Tokens(Ring(keys), time);
        var tokens = Enumerable.Range(0, 30).Select(i => rings[i % 3].Issue(Claims($"runtime-{i}"))).ToArray();
        var failures = 0;
        using var start = new Barrier(8);

        // Dedicated threads released together, so that the hashing really overlaps.
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            var scratch = new byte[LeaseTokens.ScratchBytes];
            start.SignalAndWait();
            for (var n = 0; n < 5000; n++)
            {
                var i = (n + t) % tokens.Length;
                try
                {
                    if (verifier.Verify(tokens[i], scratch, out var lease) != LeaseVerifyResult.Valid || !lease.RuntimeIdEquals($"runtime-{i}"))
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (Exception)
                {
                    // .NET detects concurrent use of one hash context; a shared context would land here, or be disposed under us.
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
        }

        Assert.Equal(0, failures);
    }
}
