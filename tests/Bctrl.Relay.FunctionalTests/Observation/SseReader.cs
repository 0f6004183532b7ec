using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Bctrl.Relay.FunctionalTests.Observation;

/// <summary>One Server-Sent Event: its id, its event type and its data (a record as JSON).</summary>
internal sealed record SseEvent(string Id, string Type, string Data)
{
    public JsonElement Json
    {
        get
        {
            using var json = JsonDocument.Parse(Data);
            return json.RootElement.Clone();
        }
    }

    public string? ConnectionId => Json.GetProperty("connectionId").GetString();

    public string? Method => Json.TryGetProperty("method", out var method) ? method.GetString() : null;

    public long? CdpId => Json.TryGetProperty("id", out var id) ? id.GetInt64() : null;

    public override string ToString() => $"#{Id} {Type} {Data}";
}

/// <summary>
/// A reader of <c>GET /v1/runtimes/{id}/events</c> (HTML Living Standard §9.2 event streams). A background loop parses
/// the stream into events as they arrive; <see cref="ReadAsync"/> hands them out one by one and remembers the last id
/// handed out. Disposing it drops the connection, as a reader that goes away does: events already received but not
/// handed out are lost with it, which is what <c>Last-Event-ID</c> is for.
/// </summary>
internal sealed class SseReader : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly Channel<SseEvent> _events = Channel.CreateUnbounded<SseEvent>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _comments;

    private SseReader(HttpResponseMessage response, Stream body, string? lastEventId)
    {
        _response = response;
        LastEventId = lastEventId;
        _loop = ParseAsync(new StreamReader(body, Encoding.UTF8));
    }

    public string? LastEventId { get; private set; }

    public HttpResponseMessage Response => _response;

    /// <summary>Comment lines (keep-alives) received so far.</summary>
    public int Comments => Volatile.Read(ref _comments);

    public static async Task<SseReader> OpenAsync(HttpClient http, string pathAndQuery, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        try
        {
            if (!response.IsSuccessStatusCode)
            {
                Assert.Fail($"GET {pathAndQuery} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(timeout.Token)}");
            }

            return new SseReader(response, await response.Content.ReadAsStreamAsync(timeout.Token), lastEventId);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>The next event; throws <see cref="TimeoutException"/> if none comes within <paramref name="timeout"/> (default 10 s).</summary>
    public async Task<SseEvent> ReadAsync(TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(10);
        using var wait = new CancellationTokenSource(limit);
        SseEvent next;
        try
        {
            next = await _events.Reader.ReadAsync(wait.Token);
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
            throw new TimeoutException($"No event within {limit.TotalSeconds} s after #{LastEventId}.");
        }
        catch (ChannelClosedException exception)
        {
            throw new EndOfStreamException($"The event stream ended after #{LastEventId}.", exception.InnerException);
        }

        LastEventId = next.Id;
        return next;
    }

    /// <summary>Reads events until one matches <paramref name="until"/> (included).</summary>
    public async Task<IReadOnlyList<SseEvent>> ReadUntilAsync(Func<SseEvent, bool> until)
    {
        var events = new List<SseEvent>();
        while (true)
        {
            var next = await ReadAsync();
            events.Add(next);
            if (until(next))
            {
                return events;
            }
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> events.</summary>
    public async Task<IReadOnlyList<SseEvent>> ReadManyAsync(int count)
    {
        var events = new List<SseEvent>();
        while (events.Count < count)
        {
            events.Add(await ReadAsync());
        }

        return events;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _response.Dispose();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or ObjectDisposedException or TimeoutException)
        {
            // The stream was cut under the loop.
        }

        _stop.Dispose();
    }

    private async Task ParseAsync(StreamReader reader)
    {
        Exception? failure = null;
        try
        {
            string? id = null;
            string? type = null;
            var data = new StringBuilder();
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Length > 0 || id is not null || type is not null)
                    {
                        Assert.True(id is not null && type is not null, $"an event without id or type: data {data}");
                        _events.Writer.TryWrite(new SseEvent(id, type, data.ToString()));
                    }

                    id = type = null;
                    data.Clear();
                    continue;
                }

                if (line[0] == ':')
                {
                    Interlocked.Increment(ref _comments);
                    continue;
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var field = colon < 0 ? line : line[..colon];
                var value = colon < 0 ? string.Empty : line[(colon + 1)..].TrimStart(' ');
                switch (field)
                {
                    case "id":
                        id = value;
                        break;
                    case "event":
                        type = value;
                        break;
                    case "data":
                        data.Append(data.Length > 0 ? "\n" : string.Empty).Append(value);
                        break;
                    default:
                        Assert.Fail($"unexpected SSE field '{field}' in line '{line}'");
                        break;
                }
            }
        }
        catch (Exception exception)
        {
            failure = exception;
        }
        finally
        {
            reader.Dispose();
            _events.Writer.TryComplete(failure);
        }
    }
}
