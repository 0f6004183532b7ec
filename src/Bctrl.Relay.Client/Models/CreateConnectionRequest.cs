namespace Bctrl.Relay.Client;

/// <summary>What to ask for when creating a connection; every property has the relay's default.</summary>
public sealed class CreateConnectionRequest
{
    /// <summary>The lease's protocol: <c>cdp</c> (the default) or <c>live</c> (a live view page).</summary>
    public string Protocol { get; init; } = "cdp";

    /// <summary>How long the URL admits attaches, in whole seconds; null for the relay's
    /// <c>Relay:Connections:DefaultTtl</c>. The relay refuses less than a second or more than its maximum (400
    /// <c>invalid_ttl</c>).</summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary>A page-scoped lease: only that target's socket (the relay's docs/scope.md). CDP leases only.</summary>
    public ConnectionScope? Scope { get; init; }

    /// <summary>Which CDP methods pass (the relay's docs/policy.md); null lets every method through. CDP leases only.</summary>
    public ConnectionPolicy? Policy { get; init; }

    /// <summary>The lease's quotas (the relay's docs/quotas.md); null for none. CDP leases only.</summary>
    public ConnectionQuotas? Quotas { get; init; }

    /// <summary>What the lease records beyond events: <c>new ConnectionRecording(Artifacts: true)</c> keeps its
    /// artifacts (the relay's docs/artifacts.md). CDP leases only.</summary>
    public ConnectionRecording? Record { get; init; }

    /// <summary>For a <c>live</c> lease: whether the viewer's mouse and keyboard reach the browser.</summary>
    public bool? Interactive { get; init; }
}
