namespace Bctrl.Relay.Discovery;

/// <summary>Where a <see cref="DiscoveryRewriter"/> stands after its latest input.</summary>
internal enum DiscoveryRewriteStatus
{
    /// <summary>Everything so far was rewritten; the document goes on.</summary>
    NeedMoreData,

    /// <summary>The document was complete and valid, and all of it is written.</summary>
    Done,

    /// <summary>The runtime's answer is not one JSON value (RFC 8259, no comments, no trailing commas, depth 64).</summary>
    InvalidJson,

    /// <summary>A single token (a string, say) is longer than the rewriter holds.</summary>
    TokenTooLarge,
}
