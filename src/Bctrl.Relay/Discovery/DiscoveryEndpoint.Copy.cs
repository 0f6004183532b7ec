using System.Buffers;

namespace Bctrl.Relay.Discovery;

/// <summary>The two ways a document goes from the runtime to the client, each counting what it reads against the cap.</summary>
internal sealed partial class DiscoveryEndpoint
{
    private const string OverCap = "body over Relay:Limits:MaxDiscoveryBytes";

    /// <summary><c>/json/protocol</c> holds no URL: it is copied as it arrives. Returns the problem, or null.</summary>
    private async Task<string?> PassThroughAsync(HttpContext context, Stream body, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            var received = 0L;
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                received += read;
                if (received > _maxBytes)
                {
                    return OverCap;
                }

                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }

            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// <c>/json/version</c>, <c>/json/list</c>, <c>/json</c>: read straight into the rewriter's buffer, rewritten token by
    /// token, sent in pieces of <see cref="HeldBackBytes"/>; for a scoped lease, the list holds its target only. Returns
    /// the problem, or null.
    /// </summary>
    private async Task<string?> RewriteAsync(HttpContext context, Stream body, string connectionUrl, string? scopeTarget, CancellationToken cancellationToken)
    {
        using var output = new PooledBufferWriter();
        using var rewriter = new DiscoveryRewriter(connectionUrl, output, scopeTarget: scopeTarget);
        var received = 0L;
        var status = DiscoveryRewriteStatus.NeedMoreData;
        while (status == DiscoveryRewriteStatus.NeedMoreData)
        {
            var read = await body.ReadAsync(rewriter.GetInputBuffer(), cancellationToken);
            if (read == 0)
            {
                status = rewriter.Complete();
                break;
            }

            received += read;
            if (received > _maxBytes)
            {
                return OverCap;
            }

            status = rewriter.Advance(read);
            if (status == DiscoveryRewriteStatus.NeedMoreData && output.WrittenCount >= HeldBackBytes)
            {
                await context.Response.Body.WriteAsync(output.WrittenMemory, cancellationToken);
                output.Clear();
            }
        }

        switch (status)
        {
            case DiscoveryRewriteStatus.Done:
                await context.Response.Body.WriteAsync(output.WrittenMemory, cancellationToken);
                return null;
            case DiscoveryRewriteStatus.TokenTooLarge:
                return $"a single token (or its rewrite) over {DiscoveryRewriter.DefaultMaxTokenBytes / (1024 * 1024)} MiB";
            default:
                return "not valid JSON";
        }
    }
}
