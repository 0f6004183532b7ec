using System.IO.Pipelines;

namespace Bctrl.Relay.Splice;

/// <summary>
/// A client side for <see cref="AttachSplice"/> made of two pipes: the upgraded stream wrapped in pipes (the
/// <c>Stream</c> client transport), or in-memory pipes in the pump benchmark.
/// </summary>
internal sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;
}
