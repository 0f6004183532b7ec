using System.Net.Sockets;
using Bctrl.Relay.Hosting.Transport;

namespace Bctrl.Relay.FunctionalTests.Hostile;

/// <summary>The node's connection limit (issue 8, finding 1): derived from the file limit, held per listener role.</summary>
public sealed class ConnectionBudgetTests
{
    [Theory(Timeout = 30_000)]
    [InlineData(0, 20_000L, 9_744)] // (20,000 − 512) / 2
    [InlineData(0, 1_200L, 344)]
    [InlineData(0, 600L, 44)]
    [InlineData(0, 100L, 16)] // never below 16
    [InlineData(0, null, ConnectionBudget.FallbackConnections)]
    [InlineData(0, 1L << 40, ConnectionBudget.FallbackConnections)]
    [InlineData(500, 20_000L, 500)] // configured wins
    [InlineData(5_000, 700L, 94)] // but never past what the file limit allows
    [InlineData(50_000, null, 50_000)]
    [InlineData(50_000, 1L << 40, 50_000)]
    public Task The_limit_is_derived_from_the_file_limit_unless_configured(int configured, long? fileLimit, int expected)
    {
        Assert.Equal(expected, ConnectionBudget.LimitFor(configured, fileLimit));
        return Task.CompletedTask;
    }

    [Theory(Timeout = 30_000)]
    [InlineData(1_048_576L, 2L << 30, 32_768)] // a container: many descriptors, 2 GiB of memory
    [InlineData(20_000L, 24L << 30, 9_744)] // descriptors bound first
    [InlineData(null, 256L << 20, 4_096)]
    [InlineData(1_048_576L, null, 524_032)]
    public Task The_derived_limit_also_keeps_within_memory(long? fileLimit, long? memory, int expected)
    {
        Assert.Equal(expected, ConnectionBudget.LimitFor(0, fileLimit, memory));
        return Task.CompletedTask;
    }

    [Fact(Timeout = 30_000)]
    public Task Places_are_taken_up_to_the_limit_and_given_back()
    {
        var budget = new ConnectionBudget(2);
        Assert.True(budget.TryTake(management: false));
        Assert.True(budget.TryTake(management: false));
        Assert.False(budget.TryTake(management: false));
        Assert.Equal(1, budget.Refused);
        Assert.Equal(2, budget.DataPlane);

        // The management listener has its own places: probes get through while the data plane is full.
        Assert.True(budget.TryTake(management: true));

        budget.Release(management: false);
        Assert.True(budget.TryTake(management: false));
        Assert.Equal(2, budget.DataPlane);
        return Task.CompletedTask;
    }

    [Fact(Timeout = 30_000)]
    public Task Racing_connections_never_pass_the_limit()
    {
        var budget = new ConnectionBudget(100);
        var taken = 0;
        Parallel.For(0, 1000, _ =>
        {
            if (budget.TryTake(management: false))
            {
                Interlocked.Increment(ref taken);
            }
        });
        Assert.Equal(100, taken);
        Assert.Equal(900, budget.Refused);
        return Task.CompletedTask;
    }

    [Fact(Timeout = 30_000)]
    public Task The_file_limit_is_read_on_linux()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Null(FileLimit.Current());
            return Task.CompletedTask;
        }

        Assert.True(FileLimit.Current() is > 0, "no file limit read from /proc/self/limits");
        return Task.CompletedTask;
    }

    /// <summary>
    /// Should the system still refuse a descriptor (another process, a file limit lowered under a running node), a
    /// runtime leg or discovery request that finds none is the node's limit, 503 <c>at_capacity</c>, not the runtime's
    /// fault; however deep a client library wrapped the socket's error.
    /// </summary>
    [Theory(Timeout = 30_000)]
    [InlineData(SocketError.TooManyOpenSockets, "at_capacity")]
    [InlineData(SocketError.NoBufferSpaceAvailable, "at_capacity")]
    [InlineData(SocketError.ConnectionRefused, "runtime_unreachable")]
    public Task A_request_that_finds_no_descriptor_is_refused_at_capacity(SocketError error, string code)
    {
        var wrapped = new HttpRequestException("dial failed", new IOException("inner", new SocketException((int)error)));
        Assert.Equal(code, Bctrl.Relay.Discovery.DiscoveryHttp.FailureOf(wrapped).Code);
        Assert.Equal(code == "at_capacity", Descriptors.IsOutOfErrno(error == SocketError.TooManyOpenSockets ? 24 : error == SocketError.NoBufferSpaceAvailable ? 105 : 111));
        return Task.CompletedTask;
    }
}
