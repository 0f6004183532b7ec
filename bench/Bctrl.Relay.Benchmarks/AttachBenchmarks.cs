using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bctrl.Relay.Hosting;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bctrl.Relay.Benchmarks;

/// <summary>
/// What one whole attach allocates (issue 9's per-attach budget, bench/allocation-budgets.json): a real relay in this
/// process, as it ships (its own transport on Linux, recording on), and one operation is an attach from end to end:
/// connect, upgrade request, lease verified, runtime dialled and its handshake checked, 101, detach, the splice, a close
/// handshake passed both ways, the attach's end, count, metrics and record. The client and the runtime are blocking raw
/// sockets that allocate nothing (<see cref="BlockingSockets"/>), so every byte counted is the relay's. Logging providers
/// are removed: what a log line costs is its provider's, not the relay's.
/// </summary>
[MemoryDiagnoser]
public class AttachBenchmarks
{
    private const string ControlKey = "bench-control-key-0123456789abcdef";

    private static ReadOnlySpan<byte> EndOfHead => "\r\n\r\n"u8;

    // A masked close frame with code 1000 (mask 0: the payload goes as is), and the runtime's unmasked answer.
    private static ReadOnlySpan<byte> ClientClose => [0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8];

    private static ReadOnlySpan<byte> RuntimeClose => [0x88, 0x02, 0x03, 0xE8];

    private readonly byte[] _buffer = new byte[4096];
    private WebApplication _relay = null!;
    private FakeRuntime _runtime = null!;
    private IPEndPoint _endpoint = null!;
    private byte[] _request = null!;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _runtime.Dispose();
        _relay.StopAsync().GetAwaiter().GetResult();
        _relay.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>One attach, from the client's connect to the end of its stream; returns the bytes the client received.</summary>
    [Benchmark(Description = "One attach: upgrade, dial, close handshake, end")]
    public int Attach()
    {
        var fd = BlockingSockets.Connect(_endpoint);
        try
        {
            BlockingSockets.SendAll(fd, _request);
            var head = BlockingSockets.ReceiveUntil(fd, _buffer, EndOfHead);
            if (!_buffer.AsSpan().StartsWith("HTTP/1.1 101"u8))
            {
                throw new InvalidOperationException("The relay refused the attach: " + Encoding.ASCII.GetString(_buffer, 0, head));
            }

            BlockingSockets.SendAll(fd, ClientClose);
            return head + BlockingSockets.ReceiveToEnd(fd, _buffer);
        }
        finally
        {
            BlockingSockets.Close(fd);
        }
    }

    private async Task SetupAsync()
    {
        _runtime = FakeRuntime.Start();
        _relay = RelayApp.Build(["--urls", "http://127.0.0.1:0"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Relay:ControlApiKey"] = ControlKey,
                ["Relay:SigningKeys:0:Id"] = "bench",
                ["Relay:SigningKeys:0:Secret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
                ["Relay:DevRuntime:Enabled"] = "false",
            });
            builder.Logging.ClearProviders();
        });
        await _relay.StartAsync();
        var address = new Uri(_relay.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        _endpoint = new IPEndPoint(IPAddress.Loopback, address.Port);

        using var http = new HttpClient { BaseAddress = address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ControlKey);
        (await http.PutAsJsonAsync("v1/runtimes/bench", new { cdpUrl = $"ws://127.0.0.1:{_runtime.Port}/devtools/browser/bench" })).EnsureSuccessStatusCode();
        using var created = await http.PostAsJsonAsync("v1/runtimes/bench/connections", new { protocol = "cdp", ttlSeconds = 3600 });
        created.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var url = new Uri(json.RootElement.GetProperty("endpoint").GetProperty("url").GetString()!);
        _request = Encoding.ASCII.GetBytes(
            $"GET {url.PathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1:{address.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");

        var received = Attach();
        if (received < 4 || !_buffer.AsSpan(0, 4).SequenceEqual(RuntimeClose))
        {
            throw new InvalidOperationException("The runtime's close did not reach the client.");
        }
    }

    /// <summary>
    /// A runtime on one thread that serves one WebSocket at a time: it answers the handshake (accept key computed in
    /// place), waits for the relay to forward the client's close, answers it and ends TCP, as a browser does.
    /// </summary>
    private sealed class FakeRuntime : IDisposable
    {
        private readonly int _listener;
        private readonly Thread _thread;
        private readonly byte[] _buffer = new byte[4096];
        private readonly byte[] _response = new byte[256];

        private FakeRuntime(int listener, int port)
        {
            _listener = listener;
            Port = port;
            _thread = new Thread(Serve) { IsBackground = true, Name = "fake runtime" };
        }

        public int Port { get; }

        public static FakeRuntime Start()
        {
            var (listener, port) = BlockingSockets.Listen();
            var runtime = new FakeRuntime(listener, port);
            runtime._thread.Start();
            return runtime;
        }

        public void Dispose()
        {
            BlockingSockets.ShutDown(_listener); // wakes the accept with an error
            _thread.Join(TimeSpan.FromSeconds(5));
            BlockingSockets.Close(_listener);
        }

        private void Serve()
        {
            int fd;
            while ((fd = BlockingSockets.Accept(_listener)) >= 0)
            {
                try
                {
                    Answer(fd);
                }
                catch (Exception exception) when (exception is InvalidOperationException or System.Net.Sockets.SocketException)
                {
                    // The relay gave up on this connection; the benchmark's own check reports it.
                }
                finally
                {
                    BlockingSockets.Close(fd);
                }
            }
        }

        private void Answer(int fd)
        {
            var head = BlockingSockets.ReceiveUntil(fd, _buffer, EndOfHead);
            var request = _buffer.AsSpan(0, head);
            var name = "Sec-WebSocket-Key: "u8;
            var start = request.IndexOf(name) + name.Length;
            var key = request[start..];
            key = key[..key.IndexOf("\r\n"u8)];

            Span<byte> joined = stackalloc byte[128];
            key.CopyTo(joined);
            "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8.CopyTo(joined[key.Length..]);
            Span<byte> hash = stackalloc byte[20];
            SHA1.HashData(joined[..(key.Length + 36)], hash);

            var response = _response.AsSpan();
            var length = Append(response, 0, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "u8);
            Base64.EncodeToUtf8(hash, response[length..], out _, out var written);
            length = Append(response, length + written, EndOfHead);
            BlockingSockets.SendAll(fd, response[..length]);

            // The client's close, forwarded masked: 2 + 4 + 2 bytes.
            for (var got = 0; got < ClientClose.Length;)
            {
                var received = BlockingSockets.Receive(fd, _buffer.AsSpan(got, ClientClose.Length - got));
                if (received <= 0)
                {
                    return;
                }

                got += received;
            }

            BlockingSockets.SendAll(fd, RuntimeClose);
        }

        private static int Append(Span<byte> destination, int at, ReadOnlySpan<byte> text)
        {
            text.CopyTo(destination[at..]);
            return at + text.Length;
        }
    }
}
