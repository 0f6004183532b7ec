using System.Globalization;
using Bctrl.Relay.Client.Http;

namespace Bctrl.Relay.Client;

/// <summary>One runtime's connections (leases): <c>/v1/runtimes/{id}/connections</c>.</summary>
public sealed class ConnectionsClient
{
    private readonly RelayHttp _http;
    private readonly string _path;

    internal ConnectionsClient(RelayHttp http, string runtimeId)
    {
        _http = http;
        _path = RuntimesClient.Path(runtimeId) + "/connections";
    }

    /// <summary>Creates a connection; its <see cref="CreatedConnection.Endpoint"/> URL is shown in this answer only.</summary>
    public Task<CreatedConnection> CreateAsync(CreateConnectionRequest? request = null, CancellationToken cancellationToken = default)
    {
        request ??= new CreateConnectionRequest();
        long? seconds = request.Ttl is { } ttl ? (long)Math.Floor(ttl.TotalSeconds) : null;
        return _http.SendJsonAsync(
            HttpMethod.Post,
            _path,
            new CreateConnectionBody(request.Protocol, seconds, request.Scope, request.Policy, request.Interactive, request.Quotas, request.Record),
            ClientJson.Default.CreateConnectionBody,
            ClientJson.Default.CreatedConnection,
            cancellationToken);
    }

    /// <summary>Every connection of the runtime, newest first, following the list's pages.</summary>
    public Task<IReadOnlyList<Connection>> ListAsync(CancellationToken cancellationToken = default)
        => _http.ListAsync(_path, ClientJson.Default.PageConnection, cancellationToken);

    /// <summary>One connection with its state and attach counts; 404 <c>connection_not_found</c> as a <see cref="RelayApiException"/>.</summary>
    public Task<Connection> GetAsync(Guid connectionId, CancellationToken cancellationToken = default)
        => _http.GetAsync(Path(connectionId), ClientJson.Default.Connection, cancellationToken);

    /// <summary>Deletes a connection: new attaches are refused; with <paramref name="terminate"/> live ones are closed
    /// too (4001). Idempotent.</summary>
    public Task DeleteAsync(Guid connectionId, bool terminate = false, CancellationToken cancellationToken = default)
        => _http.DeleteAsync(terminate ? Path(connectionId) + "?terminate=true" : Path(connectionId), cancellationToken);

    /// <summary>The recording metadata of each attach made with the connection, following the list's pages.</summary>
    public Task<IReadOnlyList<AttachRecord>> ListAttachesAsync(Guid connectionId, CancellationToken cancellationToken = default)
        => _http.ListAsync(Path(connectionId) + "/attaches", ClientJson.Default.PageAttachRecord, cancellationToken);

    private string Path(Guid connectionId) => _path + "/" + connectionId.ToString("D", CultureInfo.InvariantCulture);
}
