using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bctrl.Relay.FunctionalTests.Splice;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Policy;

/// <summary>
/// docs/policy.md on the fake runtime: a denied command never reaches the runtime and is answered as CDP answers; an
/// allowed one arrives byte for byte; the verdict holds wherever the method lies and however the message is cut.
/// </summary>
public sealed class MethodPolicyTests
{
    private const string RuntimeId = SpliceHarness.RuntimeId;

    [Fact(Timeout = 30_000)]
    public async Task A_denied_command_is_answered_with_its_id_and_session_and_never_reaches_the_runtime()
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp", policy = new { preset = "noBrowserControl", deny = new[] { "Storage.*" } } });
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;

        await client.SendFrameAsync(FakeRuntimeFrame.Text, Bytes("""{"id":7,"method":"Browser.close","sessionId":"S1"}"""));
        await client.SendFrameAsync(FakeRuntimeFrame.Text, Bytes("""{"method":"Storage.clearCookies","params":{},"id":8}"""));
        var allowed = """{"id":9,"method":"Page.navigate","params":{"url":"about:blank"}}""";
        await client.SendFrameAsync(FakeRuntimeFrame.Text, Bytes(allowed));

        // The runtime's first message is the allowed one: the denied two never reached it.
        Assert.Equal(allowed, (await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10))).PayloadText);

        var first = await ReadAnswerAsync(client);
        Assert.Equal(7, first.GetProperty("id").GetInt64());
        Assert.Equal("S1", first.GetProperty("sessionId").GetString());
        Assert.Equal(-32000, first.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal("Browser.close is denied by this lease's policy (noBrowserControl).", first.GetProperty("error").GetProperty("message").GetString());

        var second = await ReadAnswerAsync(client);
        Assert.Equal(8, second.GetProperty("id").GetInt64()); // its id came after a params object
        Assert.False(second.TryGetProperty("sessionId", out _));
        Assert.Contains("Storage.clearCookies", second.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);

        // The attach carries on both ways.
        await runtime.SendFrameAsync(FakeRuntimeFrame.Text, Bytes("""{"id":9,"result":{}}"""));
        Assert.Equal("""{"id":9,"result":{}}""", (await client.ReadFrameSkippingPingsAsync()).PayloadText);

        // Counted for Prometheus when the attach ends.
        await client.SendCloseAsync(1000);
        Assert.Equal(FakeRuntimeFrame.Close, (await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10))).Opcode);
        await runtime.SendCloseAsync(1000);
        await rig.WaitForRefusedAsync("policy", 2);
    }

    [Fact(Timeout = 30_000)]
    public async Task No_browser_control_closes_the_targets_the_attach_created_and_no_others()
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp", policy = new { preset = "noBrowserControl" } });
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;

        var create = """{"id":1,"method":"Target.createTarget","params":{"url":"about:blank"}}""";
        await client.SendFrameAsync(FakeRuntimeFrame.Text, Bytes(create));
        Assert.Equal(create, (await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10))).PayloadText);
        await runtime.SendFrameAsync(FakeRuntimeFrame.Text, Bytes("""{"id":1,"result":{"targetId":"MINE"}}"""));
        Assert.Equal("""{"id":1,"result":{"targetId":"MINE"}}""", (await client.ReadFrameSkippingPingsAsync()).PayloadText);

        // Another target, a duplicated targetId, a targetId that is not a string: answered by the relay.
        foreach (var (id, command) in new[]
        {
            (2, """{"id":2,"method":"Target.closeTarget","params":{"targetId":"THEIRS"}}"""),
            (3, """{"id":3,"method":"Target.closeTarget","params":{"targetId":"MINE","targetId":"THEIRS"}}"""),
            (4, """{"id":4,"method":"Target.closeTarget","params":{"targetId":7}}"""),
            (5, """{"id":5,"method":"Target.closeTarget"}"""),
        })
        {
            await client.SendFrameAsync(FakeRuntimeFrame.Text, Bytes(command));
            var answer = await ReadAnswerAsync(client);
            Assert.Equal(id, answer.GetProperty("id").GetInt64());
            Assert.Equal("Target.closeTarget is denied by this lease's policy (noBrowserControl).", answer.GetProperty("error").GetProperty("message").GetString());
        }

        // Its own target: the command reaches the runtime whole, split across two frames as it was sent.
        var close = Bytes("""{"id":6,"method":"Target.closeTarget","params":{"targetId":"MINE"}}""");
        await client.SendFrameAsync(FakeRuntimeFrame.Text, close[..20], fin: false);
        await client.SendFrameAsync(FakeRuntimeFrame.Continuation, close[20..]);
        var first = await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var second = await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Encoding.UTF8.GetString(close), first.PayloadText + second.PayloadText);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_verdict_holds_with_the_message_split_at_every_byte()
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp", policy = new { allow = new[] { "Page.*", "DOM.*" } } });
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;

        var allowed = RawClient.Frame(FakeRuntimeFrame.Text, Bytes("""{"id":1,"method":"DOM.getDocument","params":{"depth":-1}}"""));
        var denied = RawClient.Frame(FakeRuntimeFrame.Text, Bytes("""{"id":2,"method":"Runtime.evaluate","params":{"expression":"1"}}"""));
        for (var cut = 1; cut < denied.Length; cut++)
        {
            foreach (var (frame, isAllowed) in new[] { (allowed, true), (denied, false) })
            {
                var at = Math.Min(cut, frame.Length - 1);
                await client.SendRawAsync(frame[..at]);
                await Task.Delay(2);
                await client.SendRawAsync(frame[at..]);
                if (isAllowed)
                {
                    var arrived = await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10));
                    Assert.Equal("""{"id":1,"method":"DOM.getDocument","params":{"depth":-1}}""", arrived.PayloadText);
                }
                else
                {
                    var answer = await ReadAnswerAsync(client);
                    Assert.Equal(2, answer.GetProperty("id").GetInt64());
                }
            }
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_method_behind_100_KiB_of_params_across_fragments_is_judged(bool allowedMethod)
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp", policy = new { deny = new[] { "Runtime.evaluate" } } });
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;

        var filler = new string('x', 100 * 1024);
        var method = allowedMethod ? "Page.setDocumentContent" : "Runtime.evaluate";
        var json = $$"""{"params":{"html":"{{filler}}","nested":[{"method":"Runtime.evaluate"}]},"sessionId":"AB","method":"{{method}}","id":42}""";
        var payload = Bytes(json);

        // Fragments of uneven sizes, each sent as raw bytes cut across frame headers.
        var wire = new MemoryStream();
        var sizes = new[] { 1, 7000, 30_000, 1, 50_000 };
        var offset = 0;
        for (var i = 0; offset < payload.Length; i++)
        {
            var size = i < sizes.Length ? Math.Min(sizes[i], payload.Length - offset) : payload.Length - offset;
            wire.Write(RawClient.Frame(i == 0 ? FakeRuntimeFrame.Text : FakeRuntimeFrame.Continuation, payload[offset..(offset + size)], fin: offset + size == payload.Length));
            offset += size;
        }

        var bytes = wire.ToArray();
        for (var sent = 0; sent < bytes.Length; sent += 4093)
        {
            await client.SendRawAsync(bytes[sent..Math.Min(bytes.Length, sent + 4093)]);
        }

        if (allowedMethod)
        {
            var whole = new MemoryStream();
            while (true)
            {
                var frame = await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10));
                whole.Write(frame.Payload);
                if (frame.Fin)
                {
                    break;
                }
            }

            Assert.Equal(json, Encoding.UTF8.GetString(whole.ToArray()));
        }
        else
        {
            var answer = await ReadAnswerAsync(client);
            Assert.Equal(42, answer.GetProperty("id").GetInt64());
            Assert.Equal("AB", answer.GetProperty("sessionId").GetString());
            await runtime.SendFrameAsync(FakeRuntimeFrame.Text, Bytes("""{"method":"Page.loadEventFired","params":{}}"""));
            Assert.Equal("""{"method":"Page.loadEventFired","params":{}}""", (await client.ReadFrameSkippingPingsAsync()).PayloadText);

            // Nothing of the denied message reached the runtime: the next thing it reads is the next command.
            await client.SendFrameAsync(FakeRuntimeFrame.Text, Bytes("""{"id":43,"method":"Page.enable"}"""));
            Assert.Equal("""{"id":43,"method":"Page.enable"}""", (await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10))).PayloadText);
        }
    }

    [Theory(Timeout = 30_000)]
    [InlineData("""{"id":3,"method":"Browser\u002eclose"}""")] // an escape the runtime would read as Browser.close
    [InlineData("""{"id":3,"params":{}}""")] // no method
    [InlineData("""{"id":3,"method":7}""")]
    [InlineData("""{"id":3,"method":"Page.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}""")] // too long to judge
    [InlineData("""{"id":3,"Method":"Browser.close"}""")] // a key the runtime ignores: no method at all
    [InlineData("""{"id":3,"method":"Page.enable","method":"Browser.close"}""")] // two methods, read before any byte passed
    [InlineData("""{"id":3,"method":"Page.enable" """)] // an allowed method in an object that never closes
    public async Task A_command_whose_method_cannot_be_read_is_denied(string command)
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp", policy = new { preset = "noBrowserControl" } });
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;

        await client.SendFrameAsync(FakeRuntimeFrame.Text, Bytes(command));
        var answer = await ReadAnswerAsync(client);
        Assert.Equal(3, answer.GetProperty("id").GetInt64());
        Assert.Equal(-32000, answer.GetProperty("error").GetProperty("code").GetInt32());

        await client.SendFrameAsync(FakeRuntimeFrame.Text, Bytes("""{"id":4,"method":"Page.enable"}"""));
        Assert.Equal("""{"id":4,"method":"Page.enable"}""", (await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10))).PayloadText);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_second_method_after_an_allowed_one_ends_the_attach_before_the_runtime_has_the_whole_message()
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp", policy = new { preset = "noBrowserControl" } });
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;

        // "Method" is another key to the runtime's parser; the second "method" is what a last-value parser would run. It
        // lies past the first piece the relay judges (256 bytes), so the allowed method has begun to pass.
        var padding = new string('p', 400);
        var payload = Bytes($$"""{"id":5,"Method":"x","method":"Page.enable","params":{"pad":"{{padding}}"},"method":"Browser.close"}""");
        await client.SendFrameAsync(FakeRuntimeFrame.Text, payload);

        var close = await client.ReadFrameSkippingPingsAsync();
        Assert.Equal(FakeRuntimeFrame.Close, close.Opcode);
        Assert.Equal(1008, close.CloseCode);

        // The runtime got the message's first part at most: never its last byte, so never a command to act on.
        try
        {
            while (true)
            {
                var frame = await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10));
                Assert.NotEqual(FakeRuntimeFrame.Text, frame.Opcode);
            }
        }
        catch (Exception exception) when (exception is IOException or EndOfStreamException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            // The connection ended inside the frame, as it should.
        }
    }

    [Theory(Timeout = 30_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_ping_inside_a_held_message_still_reaches_the_runtime(bool allowedMethod)
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp", policy = new { deny = new[] { "Browser.close" } } });
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;

        var method = allowedMethod ? "Page.enable" : "Browser.close";
        await client.SendFrameAsync(FakeRuntimeFrame.Text, Bytes("""{"id":11,"""), fin: false);
        await client.SendFrameAsync(FakeRuntimeFrame.Ping, Bytes("hello"));
        await client.SendFrameAsync(FakeRuntimeFrame.Continuation, Bytes("\"method\":\"" + method + "\"}"));

        var ping = await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(FakeRuntimeFrame.Ping, ping.Opcode);
        if (allowedMethod)
        {
            var head = await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10));
            var tail = await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("""{"id":11,"method":"Page.enable"}""", head.PayloadText + tail.PayloadText);
        }
        else
        {
            Assert.Equal(11, (await ReadAnswerAsync(client)).GetProperty("id").GetInt64());
            await client.SendFrameAsync(FakeRuntimeFrame.Text, Bytes("""{"id":12,"method":"Page.enable"}"""));
            Assert.Equal("""{"id":12,"method":"Page.enable"}""", (await runtime.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10))).PayloadText);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task An_answer_waits_for_the_end_of_a_fragmented_runtime_message()
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp", policy = new { deny = new[] { "Browser.close" } } });
        var (client, runtime) = await rig.AttachAsync();
        await using var attached = client;

        await runtime.SendFrameAsync(FakeRuntimeFrame.Text, Bytes("""{"method":"Page.frameNavigated","params":"""), fin: false);
        Assert.False((await client.ReadFrameSkippingPingsAsync()).Fin);
        await client.SendFrameAsync(FakeRuntimeFrame.Text, Bytes("""{"id":5,"method":"Browser.close"}"""));
        await Task.Delay(300); // the answer is ready now, but may not cut into the runtime's message
        await runtime.SendFrameAsync(FakeRuntimeFrame.Continuation, Bytes("{}}"));

        var rest = await client.ReadFrameSkippingPingsAsync();
        Assert.Equal((FakeRuntimeFrame.Continuation, true), (rest.Opcode, rest.Fin));
        Assert.Equal(5, (await ReadAnswerAsync(client)).GetProperty("id").GetInt64());
    }

    [Fact(Timeout = 30_000)]
    public async Task A_message_cut_by_a_keep_alive_pong_that_then_breaks_ends_the_attach_with_1008()
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp", policy = new { deny = new[] { "Browser.close" } } });
        var (client, _) = await rig.AttachAsync();
        await using var attached = client;

        // A relay keep-alive pong ("BCKA" and a sequence) between two fragments of an allowed command that never closes.
        var pong = RawClient.Frame(FakeRuntimeFrame.Pong, [0x42, 0x43, 0x4B, 0x41, 0, 0, 0, 1]);
        await client.SendRawAsync([.. RawClient.Frame(FakeRuntimeFrame.Text, Bytes("""{"id":1,"method":"Page.enable" """), fin: false), .. pong,
            .. RawClient.Frame(FakeRuntimeFrame.Continuation, Bytes(""","x":1"""))]);
        var close = await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1008, close.CloseCode); // it was 1011, a relay fault, before the review's fix
    }

    [Fact(Timeout = 30_000)]
    public async Task A_binary_message_ends_the_attach_with_1008()
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp", policy = new { preset = "readOnly" } });
        var (client, _) = await rig.AttachAsync();
        await using var attached = client;

        await client.SendFrameAsync(FakeRuntimeFrame.Binary, Bytes("""{"id":1,"method":"Page.enable"}"""));
        var close = await client.ReadFrameSkippingPingsAsync();
        Assert.Equal(1008, close.CloseCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_policy_is_listed_on_get_and_the_target_commands_of_discovery_obey_it()
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp", policy = new { preset = "readOnly", deny = new[] { "Storage.*" } } });
        using (var one = JsonDocument.Parse(await rig.Relay.Http.GetStringAsync($"v1/runtimes/{RuntimeId}/connections/{rig.ConnectionId}")))
        {
            var policy = one.RootElement.GetProperty("policy");
            Assert.Equal("readOnly", policy.GetProperty("preset").GetString());
            Assert.Equal(["Storage.*"], policy.GetProperty("deny").EnumerateArray().Select(e => e.GetString()));
            Assert.False(policy.TryGetProperty("allow", out _));
        }

        // readOnly denies Target.createTarget, so /json/new through the lease is refused before the runtime is asked.
        var http = new Uri(rig.Endpoint.ToString().Replace("ws://", "http://", StringComparison.Ordinal));
        using var client = new HttpClient();
        using var response = await client.PutAsync(new Uri(http + "/json/new?about:blank"), null);
        Assert.Equal(403, (int)response.StatusCode);
        Assert.Contains("\"policy_denied\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("""{"protocol":"cdp","policy":{"preset":"admin"}}""")]
    [InlineData("""{"protocol":"cdp","policy":{}}""")]
    [InlineData("""{"protocol":"cdp","policy":{"deny":["Browser"]}}""")]
    [InlineData("""{"protocol":"cdp","policy":{"deny":["Browser.close;x"]}}""")]
    [InlineData("""{"protocol":"cdp","policy":{"allow":["*.close"]}}""")]
    [InlineData("""{"protocol":"live","policy":{"preset":"readOnly"}}""")]
    public async Task A_malformed_policy_is_refused_with_400(string body)
    {
        await using var rig = await SpliceHarness.StartAsync(connection: new { protocol = "cdp" });
        using var response = await rig.Relay.Http.PostAsync(
            $"v1/runtimes/{RuntimeId}/connections", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("\"invalid_policy\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static async Task<JsonElement> ReadAnswerAsync(RawClient client)
    {
        var frame = await client.ReadFrameSkippingPingsAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(FakeRuntimeFrame.Text, frame.Opcode);
        using var json = JsonDocument.Parse(frame.Payload);
        Assert.True(json.RootElement.TryGetProperty("error", out _), $"expected an error answer, got {frame.PayloadText}");
        return json.RootElement.Clone();
    }
}
