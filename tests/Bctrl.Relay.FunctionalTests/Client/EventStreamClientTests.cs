using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Bctrl.Relay.Client;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Client;

/// <summary>
/// <c>runtime.Events.StreamAsync</c> against a real relay: the records of an attach, filters, and a stream whose TCP
/// connection is cut under it, which reconnects with <c>Last-Event-ID</c> and misses or repeats nothing.
/// </summary>
public sealed class EventStreamClientTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_command_the_policy_refused_is_recorded_with_the_relays_error_as_its_result()
    {
        await using var rig = await ClientRig.StartAsync();
        var created = await rig.Rt.Connections.CreateAsync(new() { Policy = new ConnectionPolicy(Deny: ["Page.navigate"]) });
        var socket = await ClientRig.AttachAsync(created.Endpoint.Url);
        var buffer = new byte[4096];
        await socket.SendAsync(Encoding.UTF8.GetBytes("""{"id":1,"method":"Page.navigate","params":{}}"""), WebSocketMessageType.Text, true, CancellationToken.None);
        var answer = await socket.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Contains("\"error\"", Encoding.UTF8.GetString(buffer, 0, answer.Count), StringComparison.Ordinal);
        await ClientRig.CommandsAsync(socket, 2, 2, "Page.enable");
        await ClientRig.CloseAsync(socket);

        var records = await ClientRig.ReadUntilAsync(rig.Rt, e => e.Type == "attach.closed");
        Assert.Equal(["attach.opened", "cdp.command", "cdp.result", "cdp.command", "cdp.result", "attach.closed"], records.Select(e => e.Type));
        var refused = records[2];
        Assert.Equal((1L, "Page.navigate", true), (refused.CommandId!.Value, refused.Method, refused.Error));
        Assert.NotEqual(true, records[4].Error);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_stream_yields_the_records_of_an_attach_in_order()
    {
        await using var rig = await ClientRig.StartAsync();
        var created = await rig.Rt.Connections.CreateAsync();
        var socket = await ClientRig.AttachAsync(created.Endpoint.Url);
        await ClientRig.CommandsAsync(socket, 1, 2, "Page.enable");
        await ClientRig.CloseAsync(socket);

        var records = await ClientRig.ReadUntilAsync(rig.Rt, e => e.Type == "attach.closed");
        Assert.Equal(["attach.opened", "cdp.command", "cdp.result", "cdp.command", "cdp.result", "attach.closed"], records.Select(e => e.Type));
        Assert.All(records, e => Assert.Equal(created.Id, e.ConnectionId));
        Assert.All(records, e => Assert.Equal(ClientRig.RuntimeId, e.RuntimeId));
        Assert.Equal([1L, 1L, 2L, 2L], records.Where(e => e.Type.StartsWith("cdp.", StringComparison.Ordinal)).Select(e => e.CommandId!.Value));
        Assert.All(records.Where(e => e.Type.StartsWith("cdp.", StringComparison.Ordinal)), e => Assert.Equal("Page.enable", e.Method));
        Assert.Equal("client", records[^1].Attach!.ClosedBy);
        Assert.Equal(records.Count, records.Select(e => e.Id).Distinct().Count());
        Assert.DoesNotContain(records, e => e.Id.Length == 0);

        // Starting after a record gives exactly the ones behind it; a filter keeps only what it names.
        var tail = await ClientRig.ReadUntilAsync(rig.Rt, e => e.Type == "attach.closed", new EventFilter { After = records[2].Id });
        Assert.Equal(records.Skip(3).Select(e => e.Id), tail.Select(e => e.Id));
        var commands = await ClientRig.ReadUntilAsync(
            rig.Rt, e => e.CommandId == 2, new EventFilter { Types = ["cdp.command"], ConnectionId = created.Id });
        Assert.Equal([1L, 2L], commands.Select(e => e.CommandId!.Value));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_stream_whose_connection_is_cut_resumes_with_Last_Event_ID_and_misses_or_repeats_nothing()
    {
        await using var rig = await ClientRig.StartAsync();
        var created = await rig.Rt.Connections.CreateAsync();
        var socket = await ClientRig.AttachAsync(created.Endpoint.Url);
        await ClientRig.CommandsAsync(socket, 1, 10);

        // A client whose TCP connections the test can cut, and that notes each stream request's Last-Event-ID.
        var sockets = new ConcurrentQueue<Socket>();
        var lastEventIds = new ConcurrentQueue<string>();
        var transport = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await tcp.ConnectAsync(context.DnsEndPoint, cancellationToken);
                sockets.Enqueue(tcp);
                return new NetworkStream(tcp, ownsSocket: true);
            },
        };
        using var http = new HttpClient(new NotingHandler(lastEventIds, transport)) { BaseAddress = rig.Relay.BaseUrl };
        using var cuttable = new RelayClient(http, RelayServer.ControlKey);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<RelayEvent>();
        var filter = new EventFilter { ReconnectDelay = TimeSpan.FromMilliseconds(50) };
        var cut = false;
        Task? secondHalf = null;
        await foreach (var record in cuttable.Runtimes[ClientRig.RuntimeId].Events.StreamAsync(filter, timeout.Token))
        {
            seen.Add(record);
            if (!cut && record.Type == "cdp.result" && record.CommandId == 10)
            {
                // Everything so far is read; the server waits for more. Cut the connection under the reader, then
                // make more records while it is down.
                cut = true;
                foreach (var tcp in sockets)
                {
                    tcp.Shutdown(SocketShutdown.Both);
                    tcp.Dispose();
                }

                secondHalf = Task.Run(async () =>
                {
                    await ClientRig.CommandsAsync(socket, 11, 20);
                    await ClientRig.CloseAsync(socket);
                });
            }

            if (record.Type == "attach.closed")
            {
                break;
            }
        }

        await secondHalf!;
        var all = await ClientRig.ReadUntilAsync(rig.Rt, e => e.Type == "attach.closed");
        Assert.Equal(1 + (2 * 20) + 1, all.Count);
        Assert.Equal(all.Select(e => e.Id), seen.Select(e => e.Id));
        Assert.Equal(all.Select(e => (e.Type, e.CommandId)), seen.Select(e => (e.Type, e.CommandId)));

        // It did reconnect, on a new TCP connection, from the last record it had yielded.
        Assert.True(sockets.Count >= 2, $"{sockets.Count} connection(s)");
        var resumedFrom = lastEventIds.Skip(1).First();
        var cutAt = seen.FindIndex(e => e.Type == "cdp.result" && e.CommandId == 10);
        Assert.Equal(seen[cutAt].Id, resumedFrom);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_stream_of_a_runtime_that_does_not_exist_throws_at_once()
    {
        await using var rig = await ClientRig.StartAsync();
        var error = await Assert.ThrowsAsync<RelayApiException>(() => ClientRig.ReadUntilAsync(rig.Client.Runtimes["nope"], _ => true));
        Assert.Equal("runtime_not_found", error.Code);
    }

    private sealed class NotingHandler(ConcurrentQueue<string> lastEventIds, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lastEventIds.Enqueue(request.Headers.TryGetValues("Last-Event-ID", out var values) ? values.Single() : "");
            return base.SendAsync(request, cancellationToken);
        }
    }
}
