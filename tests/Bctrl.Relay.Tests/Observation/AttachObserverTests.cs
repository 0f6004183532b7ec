using System.Text;
using Bctrl.Relay.Observation;
using Microsoft.Extensions.Time.Testing;

namespace Bctrl.Relay.Tests.Observation;

/// <summary>
/// <see cref="AttachObserver"/>, one attach's sampler, fed as the splice feeds it: the prefix of each text message, its
/// payload size, and whether the prefix is the whole message.
/// </summary>
public sealed class AttachObserverTests
{
    private const string RuntimeId = "rt-observer";
    private static readonly Guid ConnectionId = Guid.Parse("7d4c2a1e-55b0-4c8e-9e0b-3f1f4a2d6c88");
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly RecordingSink _sink = new();
    private readonly FakeTimeProvider _time = new(Start);

    [Fact(Timeout = 10_000)]
    public async Task A_command_is_recorded_with_its_method_id_session_and_size_and_no_params_by_default()
    {
        await Task.Yield();
        var observer = NewObserver();

        Client(observer, """{"id":5,"method":"Page.navigate","params":{"url":"http://127.0.0.1/"},"sessionId":"S1"}""");

        var command = Assert.Single(_sink.Records);
        Assert.Equal(RecordTypes.CdpCommand, command.Type);
        Assert.Equal(Start, command.Time);
        Assert.Equal(RuntimeId, command.RuntimeId);
        Assert.Equal(ConnectionId, command.ConnectionId);
        Assert.Equal(17, command.AttachId);
        Assert.Equal("Page.navigate", command.Method);
        Assert.Equal(5, command.Id);
        Assert.Equal("S1", command.SessionId);
        Assert.Equal(87, command.Size);
        Assert.Null(command.Params);
        Assert.Null(command.LatencyMs);
        Assert.Null(command.Attach);
    }

    [Fact(Timeout = 10_000)]
    public async Task The_recorded_size_is_the_whole_message_not_the_prefix()
    {
        await Task.Yield();
        var observer = NewObserver();
        var bytes = Encoding.UTF8.GetBytes($$$"""{"id":1,"method":"Runtime.evaluate","params":{"expression":"{{{new string('x', 9000)}}}"}}""");

        observer.OnClientMessage(bytes.AsSpan(0, observer.PrefixBytes), bytes.Length, isWholeMessage: false);
        observer.OnRuntimeMessage("""{"method":"Network.dataReceived","params":{"requestId":"R"}}"""u8, 1_000_000, isWholeMessage: false);

        Assert.Equal([bytes.Length, 1_000_000L], _sink.Records.Select(r => r.Size!.Value));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_result_is_matched_to_its_command_and_timed()
    {
        await Task.Yield();
        var observer = NewObserver();

        Client(observer, """{"id":7,"method":"Page.navigate","params":{"url":"http://127.0.0.1/"}}""");
        Client(observer, """{"id":8,"method":"Runtime.evaluate","params":{"expression":"1"}}""");
        Runtime(observer, """{"id":8,"error":{"code":-32000,"message":"no"}}""");
        Runtime(observer, """{"id":7,"result":{"frameId":"F"}}""");

        var results = _sink.OfType(RecordTypes.CdpResult);
        Assert.Equal([8L, 7L], results.Select(r => r.Id!.Value));
        Assert.Equal(["Runtime.evaluate", "Page.navigate"], results.Select(r => r.Method));
        Assert.Equal([true, false], results.Select(r => r.Error!.Value));
        Assert.All(results, r => Assert.True(r.LatencyMs >= 0, $"latency {r.LatencyMs}"));
        Assert.Equal(["Runtime", "Page"], _sink.Completed.Select(c => c.Domain));
        Assert.Equal(results.Select(r => r.LatencyMs!.Value), _sink.Completed.Select(c => c.RoundTrip.TotalMilliseconds));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_result_whose_command_was_not_seen_is_recorded_without_method_or_latency()
    {
        await Task.Yield();
        var observer = NewObserver();

        Client(observer, """{"id":1,"method":"Page.enable"}""");
        Runtime(observer, """{"id":1,"result":{}}""");
        Runtime(observer, """{"id":1,"result":{}}""");
        Runtime(observer, """{"id":99,"result":{}}""");

        var results = _sink.OfType(RecordTypes.CdpResult);
        Assert.Equal(3, results.Count);
        Assert.Equal("Page.enable", results[0].Method);
        Assert.All(results.Skip(1), r =>
        {
            Assert.Null(r.Method);
            Assert.Null(r.LatencyMs);
        });
        Assert.Single(_sink.Completed);
    }

    [Fact(Timeout = 10_000)]
    public async Task Latency_is_measured_on_the_injected_TimeProvider()
    {
        // docs/design.md §10: TimeProvider everywhere time matters, so that tests use a fake clock. Here the fake clock moves 250 ms
        // between the command and its result and no real time passes worth speaking of.
        await Task.Yield();
        var observer = NewObserver();

        Client(observer, """{"id":1,"method":"Page.navigate","params":{"url":"http://127.0.0.1/"}}""");
        _time.Advance(TimeSpan.FromMilliseconds(250));
        Runtime(observer, """{"id":1,"result":{}}""");

        var result = Assert.Single(_sink.OfType(RecordTypes.CdpResult));
        Assert.Equal(250, result.LatencyMs);
        Assert.Equal(TimeSpan.FromMilliseconds(250), Assert.Single(_sink.Completed).RoundTrip);
    }

    [Fact(Timeout = 10_000)]
    public async Task The_same_id_in_two_sessions_is_two_commands()
    {
        // CDP ids are per session: a client may number each session's commands from 1, and the browser answers each in
        // its own session. Matching by id alone pairs a result with the other session's command.
        await Task.Yield();
        var observer = NewObserver();

        Client(observer, """{"id":1,"method":"Page.navigate","params":{"url":"http://127.0.0.1/"},"sessionId":"A"}""");
        Client(observer, """{"id":1,"method":"Runtime.evaluate","params":{"expression":"1"},"sessionId":"B"}""");
        Runtime(observer, """{"id":1,"result":{"frameId":"F"},"sessionId":"A"}""");
        Runtime(observer, """{"id":1,"result":{"result":{"type":"number"}},"sessionId":"B"}""");

        var results = _sink.OfType(RecordTypes.CdpResult);
        Assert.Equal(["A", "B"], results.Select(r => r.SessionId));
        Assert.Equal(["Page.navigate", "Runtime.evaluate"], results.Select(r => r.Method));
        Assert.All(results, r => Assert.NotNull(r.LatencyMs));
        Assert.Equal(["Page", "Runtime"], _sink.Completed.Select(c => c.Domain));
    }

    [Theory(Timeout = 10_000)]
    [InlineData(0.0, 0)]
    [InlineData(0.25, 25)]
    [InlineData(0.5, 50)]
    [InlineData(1.0, 100)]
    public async Task Events_are_sampled_at_the_rate_and_commands_and_results_always(double rate, int expectedEvents)
    {
        await Task.Yield();
        var observer = NewObserver(ObservationSettings.Default with { EventSampleRate = rate });

        for (var i = 1; i <= 100; i++)
        {
            Client(observer, $$$"""{"id":{{{i}}},"method":"Runtime.evaluate","params":{"expression":"{{{i}}}"}}""");
            Runtime(observer, """{"method":"Page.lifecycleEvent","params":{"name":"load"},"sessionId":"S"}""");
            Runtime(observer, $$$"""{"id":{{{i}}},"result":{}}""");
        }

        Assert.Equal(100, _sink.OfType(RecordTypes.CdpCommand).Count);
        Assert.Equal(100, _sink.OfType(RecordTypes.CdpResult).Count);
        var events = _sink.OfType(RecordTypes.CdpEvent);
        Assert.Equal(expectedEvents, events.Count);
        Assert.All(events, e =>
        {
            Assert.Equal("Page.lifecycleEvent", e.Method);
            Assert.Equal("S", e.SessionId);
            Assert.Null(e.Id);
            Assert.Null(e.Params);
        });

        // Spread evenly over the run: the event of iteration i is recorded after the i-th command.
        var iterations = new List<int>();
        var commandsSoFar = 0;
        foreach (var record in _sink.Records)
        {
            commandsSoFar += record.Type == RecordTypes.CdpCommand ? 1 : 0;
            if (record.Type == RecordTypes.CdpEvent)
            {
                iterations.Add(commandsSoFar);
            }
        }

        if (expectedEvents > 0)
        {
            var every = (int)Math.Round(1 / rate);
            Assert.Equal(Enumerable.Range(1, expectedEvents).Select(n => n * every), iterations);
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task At_most_MaxPendingCommands_commands_wait_for_their_result()
    {
        await Task.Yield();
        var observer = NewObserver(ObservationSettings.Default with { MaxPendingCommands = 3 });

        for (var i = 1; i <= 5; i++)
        {
            Client(observer, $$$"""{"id":{{{i}}},"method":"Page.enable"}""");
        }

        for (var i = 1; i <= 5; i++)
        {
            Runtime(observer, $$$"""{"id":{{{i}}},"result":{}}""");
        }

        // The table has room again once results came back.
        Client(observer, """{"id":6,"method":"DOM.enable"}""");
        Runtime(observer, """{"id":6,"result":{}}""");

        Assert.Equal(6, _sink.OfType(RecordTypes.CdpCommand).Count);
        var results = _sink.OfType(RecordTypes.CdpResult);
        Assert.Equal([true, true, true, false, false, true], results.Select(r => r.LatencyMs is not null));
        Assert.Equal(["Page", "Page", "Page", "DOM"], _sink.Completed.Select(c => c.Domain));
    }

    [Fact(Timeout = 10_000)]
    public async Task With_MaxPendingCommands_zero_nothing_is_timed_but_everything_is_recorded()
    {
        await Task.Yield();
        var observer = NewObserver(ObservationSettings.Default with { MaxPendingCommands = 0 });

        Client(observer, """{"id":1,"method":"Page.enable"}""");
        Runtime(observer, """{"id":1,"result":{}}""");

        Assert.Equal([RecordTypes.CdpCommand, RecordTypes.CdpResult], _sink.Records.Select(r => r.Type));
        Assert.Null(_sink.Records[1].LatencyMs);
        Assert.Empty(_sink.Completed);
    }

    [Fact(Timeout = 10_000)]
    public async Task Commands_are_counted_by_domain_and_nothing_else_is()
    {
        await Task.Yield();
        var observer = NewObserver();

        Client(observer, """{"id":1,"method":"Page.enable"}""");
        Client(observer, """{"id":2,"method":"Page.navigate","params":{"url":"http://127.0.0.1/"}}""");
        Client(observer, """{"id":3,"method":"Runtime.evaluate","params":{"expression":"1"}}""");
        Client(observer, """{"id":4,"method":"Vendor.custom"}""");
        Client(observer, """{"id":5,"method":"nodot"}""");
        var cut = Encoding.UTF8.GetBytes($$$"""{"method":"Target.createTarget","params":{"url":"{{{new string('u', 4000)}}}"},"id":6}""");
        observer.OnClientMessage(cut.AsSpan(0, 1024), cut.Length, isWholeMessage: false);
        Runtime(observer, """{"id":1,"result":{}}""");
        Runtime(observer, """{"method":"Page.loadEventFired","params":{"timestamp":1}}""");
        Client(observer, "not json");
        var first = observer.CommandsByDomain();

        _sink.Full = true;
        Client(observer, """{"id":7,"method":"Page.reload"}""");

        Assert.Equal(
            new Dictionary<string, long> { ["Page"] = 2, ["Runtime"] = 1, ["other"] = 2, ["Target"] = 1 },
            first.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary());
        Assert.Equal(3, observer.CommandsByDomain()["Page"]);
        Assert.Equal(2, first["Page"]);
    }

    [Fact(Timeout = 10_000)]
    public async Task Stored_params_are_the_commands_own_or_redacted_and_never_from_a_cut_prefix()
    {
        await Task.Yield();
        var observer = NewObserver(ObservationSettings.Default with { StoreParams = true });

        Client(observer, """{"id":1,"method":"Page.navigate","params":{"url":"http://127.0.0.1/a"},"sessionId":"S"}""");
        Client(observer, """{"id":2,"method":"Input.insertText","params":{"text":"canary-typed"}}""");
        Client(observer, """{"id":3,"method":"Page.enable"}""");
        var cut = Encoding.UTF8.GetBytes($$$"""{"id":4,"method":"Page.navigate","params":{"url":"http://127.0.0.1/{{{new string('p', 2000)}}}"}}""");
        observer.OnClientMessage(cut.AsSpan(0, 1024), cut.Length, isWholeMessage: false);
        Runtime(observer, """{"method":"Page.frameNavigated","params":{"frame":{"url":"http://127.0.0.1/a"}}}""");
        Runtime(observer, """{"id":2,"result":{"echo":"canary-typed"}}""");

        var commands = _sink.OfType(RecordTypes.CdpCommand);
        Assert.Equal("""{"url":"http://127.0.0.1/a"}""", commands[0].Params);
        Assert.Equal("""{"redacted":true,"bytes":23}""", commands[1].Params);
        Assert.Null(commands[2].Params);
        Assert.Null(commands[3].Params);
        Assert.All(_sink.Records.Where(r => r.Type != RecordTypes.CdpCommand), r => Assert.Null(r.Params));
    }

    [Theory(Timeout = 10_000)]
    [InlineData("")]
    [InlineData("hello")]
    [InlineData("[1,2]")]
    [InlineData("{}")]
    [InlineData("""{"id":3}""")]
    [InlineData("""{"params":{"id":3,"method":"Page.enable"}}""")]
    public async Task A_client_message_without_a_method_is_not_a_command(string text)
    {
        await Task.Yield();
        var observer = NewObserver();

        Client(observer, text);

        Assert.Empty(_sink.Records);
        Assert.Empty(observer.CommandsByDomain());
    }

    [Fact(Timeout = 10_000)]
    public async Task A_full_sink_loses_records_but_not_the_timing()
    {
        await Task.Yield();
        var observer = NewObserver();
        _sink.Full = true;

        Client(observer, """{"id":1,"method":"Page.enable"}""");
        Runtime(observer, """{"id":1,"result":{}}""");
        Runtime(observer, """{"method":"Page.loadEventFired","params":{}}""");

        Assert.Empty(_sink.Records);
        Assert.Equal(3, _sink.Refused);
        Assert.Equal("Page", Assert.Single(_sink.Completed).Domain);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_two_pumps_may_feed_it_at_once()
    {
        // The client pump adds commands while the runtime pump takes results: each result here answers a command
        // the client side has already handed over.
        await Task.Yield();
        const int Count = 20_000;
        var observer = NewObserver(ObservationSettings.Default with { EventSampleRate = 0 });
        var sent = 0;
        var answered = 0;

        var client = Task.Run(() =>
        {
            for (var i = 1; i <= Count; i++)
            {
                // Stay within MaxPendingCommands of the answers, as a client awaiting its results does.
                while (i - Volatile.Read(ref answered) > 1000)
                {
                    Thread.SpinWait(10);
                }

                Client(observer, $$$"""{"id":{{{i}}},"method":"Runtime.evaluate"}""");
                Volatile.Write(ref sent, i);
            }
        });
        var runtime = Task.Run(() =>
        {
            for (var i = 1; i <= Count; i++)
            {
                while (Volatile.Read(ref sent) < i)
                {
                    Thread.SpinWait(10);
                }

                Runtime(observer, $$$"""{"id":{{{i}}},"result":{}}""");
                Runtime(observer, """{"method":"Runtime.consoleAPICalled","params":{}}""");
                Volatile.Write(ref answered, i);
            }
        });
        await Task.WhenAll(client, runtime);

        Assert.Equal(Count, _sink.OfType(RecordTypes.CdpResult).Count(r => r.LatencyMs is not null));
        Assert.Equal(Count, _sink.Completed.Count);
        Assert.Equal(Count, observer.CommandsByDomain()["Runtime"]);
    }

    private AttachObserver NewObserver(ObservationSettings? settings = null)
        => new(RuntimeId, ConnectionId, 17, settings ?? ObservationSettings.Default, _sink, _time);

    private static void Client(AttachObserver observer, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        observer.OnClientMessage(bytes, bytes.Length, isWholeMessage: true);
    }

    private static void Runtime(AttachObserver observer, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        observer.OnRuntimeMessage(bytes, bytes.Length, isWholeMessage: true);
    }
}
