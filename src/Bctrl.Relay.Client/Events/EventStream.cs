using System.Net;
using System.Text;
using System.Text.Json;
using Bctrl.Relay.Client.Http;

namespace Bctrl.Relay.Client;

/// <summary>
/// One reader of an event stream across reconnects: parses Server-Sent Events (the WHATWG HTML standard's
/// <c>text/event-stream</c>, as the relay writes it: <c>id:</c>, <c>event:</c>, one <c>data:</c> line of JSON, a
/// blank line; comments like <c>: keep-alive</c> skipped) and remembers the last id, which it sends as
/// <c>Last-Event-ID</c> when it opens the stream again.
/// </summary>
internal sealed class EventStream(RelayHttp http, string path, EventFilter filter) : IDisposable
{
    private readonly StringBuilder _data = new();
    private string? _lastId = filter.After;
    private HttpResponseMessage? _response;
    private StreamReader? _reader;
    private int _failures;

    public async Task<RelayEvent> NextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_reader is null)
            {
                await ConnectAsync(cancellationToken).ConfigureAwait(false);
            }

            RelayEvent? next;
            try
            {
                next = await ReadEventAsync(_reader!, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested && IsDrop(exception))
            {
                next = null;
            }

            if (next is not null)
            {
                _lastId = next.Id;
                return next;
            }

            // The stream ended or dropped: open it again after the last record yielded.
            Close();
            await Task.Delay(filter.ReconnectDelay, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => Close();

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                _response = await http.OpenStreamAsync(path, _lastId, cancellationToken).ConfigureAwait(false);
                _reader = new StreamReader(await _response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Encoding.UTF8);
                _failures = 0;
                return;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested && IsTransient(exception) && _failures < filter.MaxReconnectAttempts)
            {
                Close();
                _failures++;
                await Task.Delay(filter.ReconnectDelay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The next event, or null at the end of the stream.</summary>
    private async Task<RelayEvent?> ReadEventAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        string? id = null;
        _data.Clear();
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (true)
        {
            idle.CancelAfter(filter.IdleTimeout);
            string? line;
            try
            {
                line = await reader.ReadLineAsync(idle.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new IOException("The event stream sent nothing within the idle timeout.");
            }

            if (line is null)
            {
                return null;
            }

            if (line.Length == 0)
            {
                if (_data.Length > 0)
                {
                    var record = JsonSerializer.Deserialize(_data.ToString(), ClientJson.Default.RelayEvent)
                        ?? throw new RelayApiException("The event stream sent an empty record.");
                    return record with { Id = id ?? _lastId ?? "" };
                }

                continue;
            }

            if (line[0] == ':')
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..];
            if (value.StartsWith(' '))
            {
                value = value[1..];
            }

            switch (field)
            {
                case "id":
                    id = value;
                    break;
                case "data":
                    _data.Append(_data.Length > 0 ? "\n" : "").Append(value);
                    break;
                default:
                    break; // "event" repeats the record's type; "retry" and unknown fields are not used.
            }
        }
    }

    private void Close()
    {
        _reader?.Dispose();
        _reader = null;
        _response?.Dispose();
        _response = null;
    }

    private static bool IsDrop(Exception exception) => exception is IOException or HttpRequestException or ObjectDisposedException;

    /// <summary>Worth another try: the relay unreachable, or a 5xx (503 <c>state_unavailable</c> asks for a retry).</summary>
    private static bool IsTransient(Exception exception)
        => exception is IOException or HttpRequestException
            || (exception is RelayApiException api && (int)api.StatusCode >= (int)HttpStatusCode.InternalServerError);
}
