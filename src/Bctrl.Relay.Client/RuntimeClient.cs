using Bctrl.Relay.Client.Http;

namespace Bctrl.Relay.Client;

/// <summary>One runtime: its connections (leases), its event stream and its artifacts.</summary>
public sealed class RuntimeClient
{
    private readonly RelayHttp _http;

    internal RuntimeClient(RelayHttp http, string runtimeId)
    {
        _http = http;
        Id = runtimeId;
        Connections = new ConnectionsClient(http, runtimeId);
        Events = new EventsClient(http, runtimeId);
        Artifacts = new ArtifactsClient(http, runtimeId);
    }

    /// <summary>The runtime id.</summary>
    public string Id { get; }

    /// <summary>The runtime's connections (leases).</summary>
    public ConnectionsClient Connections { get; }

    /// <summary>The runtime's records as a stream.</summary>
    public EventsClient Events { get; }

    /// <summary>The runtime's artifacts (screenshots, PDFs, screencast frames, downloads).</summary>
    public ArtifactsClient Artifacts { get; }

    /// <summary>The runtime as registered.</summary>
    public Task<Runtime> GetAsync(CancellationToken cancellationToken = default)
        => _http.GetAsync(RuntimesClient.Path(Id), ClientJson.Default.Runtime, cancellationToken);

    /// <summary>Deletes the runtime; its connections stop admitting attaches.</summary>
    public Task DeleteAsync(CancellationToken cancellationToken = default) => _http.DeleteAsync(RuntimesClient.Path(Id), cancellationToken);
}
