using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Bctrl.Relay.Splice;

/// <summary>
/// A runtime reached through two pipes instead of a socket: <paramref name="fromRuntime"/> carries what the runtime
/// sends, <paramref name="toRuntime"/> what the relay sends it. In production the pipes of a TLS stream to a
/// <c>wss://</c> runtime (docs/tls.md), which <paramref name="owner"/> is, disposed with the link; in the pump benchmark
/// (docs/design.md §9: an in-memory pump, no sockets) and the splice's unit tests, in-memory pipes.
/// </summary>
internal sealed class PipeRuntimeLink(PipeReader fromRuntime, PipeWriter toRuntime, IDisposable? owner = null) : RuntimeLink
{
    public override ValueTask<int> WaitForDataAsync(CancellationToken cancellationToken)
    {
        if (fromRuntime.TryRead(out var result))
        {
            var length = (int)Math.Min(result.Buffer.Length, int.MaxValue);
            fromRuntime.AdvanceTo(result.Buffer.Start); // nothing consumed and nothing examined: the data stays
            return new ValueTask<int>(length);
        }

        return AwaitDataAsync(cancellationToken);
    }

    public override int TryReceive(Span<byte> destination)
    {
        if (!fromRuntime.TryRead(out var result))
        {
            return NothingWaiting;
        }

        var buffer = result.Buffer;
        if (buffer.IsEmpty)
        {
            fromRuntime.AdvanceTo(buffer.End);
            return result.IsCompleted ? 0 : NothingWaiting;
        }

        var length = (int)Math.Min(buffer.Length, destination.Length);
        buffer.Slice(0, length).CopyTo(destination);
        fromRuntime.AdvanceTo(buffer.GetPosition(length));
        return length;
    }

    public override ValueTask<int> SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var write = toRuntime.WriteAsync(data, cancellationToken);
        return write.IsCompletedSuccessfully ? new ValueTask<int>(data.Length) : AwaitWriteAsync(write, data.Length);
    }

    public override void Shutdown()
    {
        toRuntime.Complete();
        fromRuntime.Complete();
    }

    public override void Dispose() => owner?.Dispose();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> AwaitDataAsync(CancellationToken cancellationToken)
    {
        var result = await fromRuntime.ReadAsync(cancellationToken).ConfigureAwait(false);
        var length = (int)Math.Min(result.Buffer.Length, int.MaxValue);
        fromRuntime.AdvanceTo(result.Buffer.Start);
        return length;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<int> AwaitWriteAsync(ValueTask<FlushResult> write, int length)
    {
        await write.ConfigureAwait(false);
        return length;
    }
}
