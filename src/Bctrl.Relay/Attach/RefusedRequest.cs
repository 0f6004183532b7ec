namespace Bctrl.Relay.Attach;

/// <summary>Which data-plane request a refusal answered: it picks the metric and the summary's prefix.</summary>
internal enum RefusedRequest
{
    /// <summary>A WebSocket upgrade on <c>/cdp/{token}</c> or one of its <c>devtools</c> paths.</summary>
    Attach,

    /// <summary>A discovery document under the lease (<c>/cdp/{token}/json/…</c>).</summary>
    Discovery,
}
