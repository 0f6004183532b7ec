using System.Text;
using Bctrl.Relay.Policy;

namespace Bctrl.Relay.Tests.Policy;

/// <summary>
/// The policy's reader of a command's top level (issue 11): the method, id and session are read however the message is
/// split, past any <c>params</c>, and anything it cannot judge is refused (fail closed).
/// </summary>
public class CdpCommandScannerTests
{
    private const string Puppeteer = """{"method":"Runtime.evaluate","params":{"expression":"x = \"}{][\\\"\"; [1,{\"a\":2}]","awaitPromise":true},"id":17,"sessionId":"9A8B7C6D5E4F"}""";

    public static TheoryData<string, string, long?, string> Commands => new()
    {
        { """{"id":1,"method":"Browser.getVersion"}""", "Browser.getVersion", 1, "" },
        { Puppeteer, "Runtime.evaluate", 17, "9A8B7C6D5E4F" },
        { """ { "id" : 42 , "method" : "Page.navigate" , "params" : { "url" : "https://example.com/?q={}" } } """, "Page.navigate", 42, "" },
        { """{"params":[],"method":"Target.getTargets","id":-3}""", "Target.getTargets", -3, "" },
        { """{"method":"DOM.enable","id":1.5}""", "DOM.enable", null, "" },
        { """{"method":"DOM.enable","id":1.25}""", "DOM.enable", null, "" }, // not 125 (found by review)
        { """{"meth":"x","methods":"y","method":"Page.enable","id":2,"idx":"z"}""", "Page.enable", 2, "" },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public void A_command_is_read_at_every_split_point(string json, string method, long? id, string session)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        for (var split = 0; split <= bytes.Length; split++)
        {
            var scanner = new CdpCommandScanner();
            scanner.Feed(bytes.AsSpan(0, split));
            scanner.Feed(bytes.AsSpan(split));
            Assert.Equal(CommandScan.MethodRead, scanner.Complete());
            Assert.Equal(method, Encoding.UTF8.GetString(scanner.Method));
            Assert.Equal(id, scanner.HasId ? scanner.Id : null);
            Assert.Equal(session, Encoding.UTF8.GetString(scanner.SessionId));
        }
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void A_command_is_read_one_byte_at_a_time(string json, string method, long? id, string session)
    {
        var scanner = new CdpCommandScanner();
        foreach (var b in Encoding.UTF8.GetBytes(json))
        {
            scanner.Feed([b]);
        }

        Assert.Equal(CommandScan.MethodRead, scanner.Complete());
        Assert.Equal(method, Encoding.UTF8.GetString(scanner.Method));
        Assert.Equal(id, scanner.HasId ? scanner.Id : null);
        Assert.Equal(session, Encoding.UTF8.GetString(scanner.SessionId));
    }

    [Fact]
    public void The_method_is_known_as_soon_as_its_string_closes()
    {
        var scanner = new CdpCommandScanner();
        Assert.Equal(CommandScan.NeedMore, scanner.Feed("""{"id":3,"method":"Input.dispatch"""u8));
        Assert.Equal(CommandScan.MethodRead, scanner.Feed("""KeyEvent","params":{"#"""u8));
        Assert.Equal("Input.dispatchKeyEvent", Encoding.UTF8.GetString(scanner.Method));
    }

    [Fact]
    public void A_method_after_100_KiB_of_params_is_read_at_random_splits_and_a_byte_at_a_time()
    {
        var large = new StringBuilder("{\"id\":99,\"params\":{\"data\":\"");
        var random = new Random(11);
        for (var i = 0; i < 100 * 1024; i++)
        {
            // Quotes, backslashes and brackets inside the string must not end it or count as nesting.
            large.Append("ab{}[]\\\"c"[random.Next(8)] switch { '\\' => "\\\\", '"' => "\\\"", var c => c.ToString() });
        }

        large.Append("\",\"list\":[[{\"method\":\"Browser.close\"}]]},\"method\":\"Page.captureScreenshot\",\"sessionId\":\"S1\"}");
        var bytes = Encoding.UTF8.GetBytes(large.ToString());

        for (var round = 0; round < 200; round++)
        {
            var scanner = new CdpCommandScanner();
            var offset = 0;
            while (offset < bytes.Length)
            {
                var length = Math.Min(bytes.Length - offset, 1 + random.Next(round < 100 ? 64 : 20_000));
                scanner.Feed(bytes.AsSpan(offset, length));
                offset += length;
            }

            Assert.Equal(CommandScan.MethodRead, scanner.Complete());
            Assert.Equal("Page.captureScreenshot", Encoding.UTF8.GetString(scanner.Method));
            Assert.Equal(99, scanner.Id);
            Assert.Equal("S1", Encoding.UTF8.GetString(scanner.SessionId));
        }

        var byBytes = new CdpCommandScanner();
        foreach (var b in bytes)
        {
            byBytes.Feed([b]);
        }

        Assert.Equal(CommandScan.MethodRead, byBytes.Complete());
        Assert.Equal("Page.captureScreenshot", Encoding.UTF8.GetString(byBytes.Method));
    }

    public static TheoryData<string, string> Refused => new()
    {
        { """[{"id":1,"method":"Page.enable"}]""", "not an object" },
        { """{"id":1,"method":7}""", "a method that is not a string" },
        { """{"id":1,"method":{"name":"Browser.close"}}""", "a method that is an object" },
        { """{"id":1,"method":""}""", "an empty method" },
        { """{"id":1,"method":"Browser\u002eclose"}""", "an escaped method" },
        { """{"id":1,"method":"Page.enable","params":{},"method":"Browser.close"}""", "a second method" },
        { """{"id":1,"id":2,"method":"Page.enable"}""", "a second id" },
        { """{"id":1,"sessionId":"a","sessionId":"b","method":"Page.enable"}""", "a second session" },
        { """{"id":1,"meth\u006fd":"Browser.close","method":"Page.enable"}""", "an escaped key" },
        { """{"id":"1","method":"Page.enable"}""", "a string id" },
        { """{"id":1,"method":"Page.enable"} {"id":2,"method":"Browser.close"}""", "a second value" },
        { """{"id":1,"method":"Page.enable","params":{"a":1}""", "an object that does not close" },
        { """{"id":1,"params":{"method":"Page.enable"}}""", "a method only inside params" },
        { """{"id":1}""", "no method" },
        { """{"id":1,"method":"Page.enable",}""", "a comma before the close" },
        { """{"id":1 "method":"Page.enable"}""", "a missing comma" },
        { """{"id":1,"method":"Page.enable","sessionId":["x"]}""", "a session that is not a string" },
        { "", "nothing" },

        // The runtime's parser (Chromium's crdtp) skips // and /* */ comments: a comment could hide a quote or a bracket
        // from the scanner, so that it reads another method than the runtime runs. Found by review.
        { """{"id":1,"params":{/*"*/},"method":"Browser.close"/*"},"method":"Page.enable","w":*/}""", "a comment hiding a method" },
        { """{"id":1,"params":{"a":1 /* } */},"method":"Page.enable"}""", "a comment in params" },
        { """{"id":1,/*x*/"method":"Page.enable"}""", "a comment between members" },
        { """{"id":1,"w":/*"*/1,"method":"Page.enable"}""", "a comment as a value" },
        { """{"id":1,"w":1/*"*/,"method":"Page.enable"}""", "a comment after a number" },
        { """{"id":1,"w":tru"e","method":"Page.enable"}""", "a quote in a scalar" },
        { "{\"id\":1,\u000b\"method\":\"Page.enable\"}", "a vertical tab" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void What_cannot_be_judged_is_refused_at_every_split_point(string json, string what)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        for (var split = 0; split <= bytes.Length; split++)
        {
            var scanner = new CdpCommandScanner();
            scanner.Feed(bytes.AsSpan(0, split));
            scanner.Feed(bytes.AsSpan(split));
            Assert.True(scanner.Complete() == CommandScan.Refused, $"{what} was let through (split at {split})");
            Assert.True(scanner.Method.IsEmpty, $"{what}: a refused scan names no method");
        }
    }

    [Fact]
    public void A_method_longer_than_the_bound_is_refused()
    {
        var scanner = new CdpCommandScanner();
        var json = $$"""{"id":1,"method":"{{new string('A', CdpCommandScanner.MaxMethodBytes + 1)}}"}""";
        Assert.Equal(CommandScan.Refused, scanner.Feed(Encoding.UTF8.GetBytes(json)));

        var exact = new CdpCommandScanner();
        exact.Feed(Encoding.UTF8.GetBytes($$"""{"id":1,"method":"{{new string('A', CdpCommandScanner.MaxMethodBytes)}}"}"""));
        Assert.Equal(CommandScan.MethodRead, exact.Complete());
    }

    /// <summary>
    /// Mutated commands: whenever the scanner lets one through and a strict JSON parser reads it, every top-level
    /// <c>method</c> that parser sees (a runtime that keeps the first or the last of duplicates) is the one the scanner read.
    /// </summary>
    [Fact]
    public void A_mutated_command_the_scanner_lets_through_names_no_other_method_to_a_json_parser()
    {
        var random = new Random(2026);
        var seeds = Commands.Select(row => Encoding.UTF8.GetBytes((string)row[0])).ToArray();
        const string Alphabet = "{}[]\":,. \u002emethodidsessionId0123456789Browser.closePage.enable";
        var letThrough = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = seeds[random.Next(seeds.Length)].ToList();
            for (var m = random.Next(1, 4); m > 0; m--)
            {
                var at = random.Next(bytes.Count + 1);
                var c = (byte)Alphabet[random.Next(Alphabet.Length)];
                switch (random.Next(3))
                {
                    case 0:
                        bytes.Insert(at, c);
                        break;
                    case 1 when at < bytes.Count:
                        bytes.RemoveAt(at);
                        break;
                    default:
                        if (at < bytes.Count)
                        {
                            bytes[at] = c;
                        }

                        break;
                }
            }

            var message = bytes.ToArray();
            var scanner = new CdpCommandScanner();
            var split = random.Next(message.Length + 1);
            scanner.Feed(message.AsSpan(0, split));
            scanner.Feed(message.AsSpan(split));
            if (scanner.Complete() != CommandScan.MethodRead)
            {
                continue;
            }

            System.Text.Json.JsonDocument document;
            try
            {
                document = System.Text.Json.JsonDocument.Parse(message);
            }
            catch (System.Text.Json.JsonException)
            {
                continue; // the runtime refuses it too
            }

            using (document)
            {
                letThrough++;
                var methods = document.RootElement.EnumerateObject().Where(p => p.Name == "method").ToList();
                Assert.True(methods.Count == 1, $"{methods.Count} methods in {Encoding.UTF8.GetString(message)}");
                Assert.Equal(Encoding.UTF8.GetString(scanner.Method), methods[0].Value.GetString());
            }
        }

        Assert.True(letThrough > 1000, $"only {letThrough} mutated commands were both let through and valid JSON");
    }

    [Fact]
    public void Scanning_allocates_nothing()
    {
        var bytes = Encoding.UTF8.GetBytes(Puppeteer);
        var read = 0;
        for (var i = 0; i < 100; i++)
        {
            Scan();
        }

        var allocated = Allocations.LeastOf(8, () =>
        {
            read = 0;
            for (var i = 0; i < 1000; i++)
            {
                Scan();
            }
        });

        Assert.Equal(0, allocated);
        Assert.Equal(1000, read);

        void Scan()
        {
            var scanner = new CdpCommandScanner();
            scanner.Feed(bytes.AsSpan(0, 40));
            scanner.Feed(bytes.AsSpan(40));
            if (scanner.Complete() == CommandScan.MethodRead && scanner.Method.SequenceEqual("Runtime.evaluate"u8))
            {
                read++;
            }
        }
    }
}
