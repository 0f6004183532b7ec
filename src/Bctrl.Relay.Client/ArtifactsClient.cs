using System.Text;
using Bctrl.Relay.Client.Http;

namespace Bctrl.Relay.Client;

/// <summary>A runtime's artifacts: <c>/v1/runtimes/{id}/artifacts</c> (the relay's docs/artifacts.md).</summary>
public sealed class ArtifactsClient
{
    private readonly RelayHttp _http;
    private readonly string _path;

    internal ArtifactsClient(RelayHttp http, string runtimeId)
    {
        _http = http;
        _path = RuntimesClient.Path(runtimeId) + "/artifacts";
    }

    /// <summary>The runtime's artifacts, oldest first, following the list's pages; only one connection's or one kind's when given.</summary>
    public Task<IReadOnlyList<Artifact>> ListAsync(Guid? connectionId = null, string? kind = null, CancellationToken cancellationToken = default)
    {
        var query = new StringBuilder(_path);
        if (connectionId is { } id)
        {
            query.Append("?connectionId=").Append(id.ToString("D"));
        }

        if (kind is not null)
        {
            query.Append(connectionId is null ? '?' : '&').Append("kind=").Append(Uri.EscapeDataString(kind));
        }

        return _http.ListAsync(query.ToString(), ClientJson.Default.PageArtifact, cancellationToken);
    }

    /// <summary>One artifact's bytes; 404 <c>artifact_not_found</c> as a <see cref="RelayApiException"/>.</summary>
    public async Task<ArtifactContent> GetAsync(string artifactId, CancellationToken cancellationToken = default)
    {
        var (bytes, contentType) = await _http.GetBytesAsync(_path + "/" + RelayHttp.Segment(artifactId), cancellationToken).ConfigureAwait(false);
        return new ArtifactContent(bytes, contentType);
    }
}
