using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.EndToEndTests.Observation;

/// <summary>One record of the run as <c>GET /v1/runtimes/{id}/events</c> serves it.</summary>
internal sealed record RecordEvent(string Id, string Type, JsonElement Data, string RawData)
{
    public string? Method => Data.TryGetProperty("method", out var method) ? method.GetString() : null;

    public long? CdpId => Data.TryGetProperty("id", out var id) ? id.GetInt64() : null;

    public string? SessionId => Data.TryGetProperty("sessionId", out var session) ? session.GetString() : null;

    public override string ToString() => $"#{Id} {Type} {RawData}";
}

/// <summary>Reads a runtime's record of the run from the relay's event stream.</summary>
internal static class RunRecord
{
    /// <summary>
    /// Every record from the start of the stream up to the first that matches <paramref name="until"/>, and the stream's
    /// raw text (for looking for things that must never be there).
    /// </summary>
    public static async Task<(IReadOnlyList<RecordEvent> Records, string Raw)> ReadUntilAsync(RelayServer relay, string runtimeId, Func<RecordEvent, bool> until)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/runtimes/{runtimeId}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await relay.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.True(response.IsSuccessStatusCode, $"GET events answered {(int)response.StatusCode}");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token), Encoding.UTF8);
        var records = new List<RecordEvent>();
        var raw = new StringBuilder();
        string? id = null;
        string? type = null;
        string? data = null;
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            raw.Append(line).Append('\n');
            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = line[4..];
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line[6..];
            }
            else if (line.Length == 0 && data is not null)
            {
                using var json = JsonDocument.Parse(data);
                var record = new RecordEvent(id!, type!, json.RootElement.Clone(), data);
                records.Add(record);
                id = type = data = null;
                if (until(record))
                {
                    return (records, raw.ToString());
                }
            }
        }

        Assert.Fail($"The event stream ended after {records.Count} records.");
        return default;
    }

    /// <summary>Polls the connection's attaches until the first has closed; returns it.</summary>
    public static async Task<JsonElement> WaitForClosedAttachAsync(RelayServer relay, string runtimeId, string connectionId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            using var json = JsonDocument.Parse(await relay.Http.GetStringAsync($"v1/runtimes/{runtimeId}/connections/{connectionId}/attaches"));
            var attaches = json.RootElement.GetProperty("data");
            if (attaches.GetArrayLength() > 0 && attaches[0].TryGetProperty("closedAt", out _))
            {
                return attaches[0].Clone();
            }

            Assert.True(DateTime.UtcNow < deadline, $"the attach never closed: {attaches.GetRawText()}");
            await Task.Delay(50);
        }
    }
}
