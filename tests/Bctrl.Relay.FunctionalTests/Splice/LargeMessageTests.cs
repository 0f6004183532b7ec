using System.Security.Cryptography;
using Bctrl.Relay.Testing;

namespace Bctrl.Relay.FunctionalTests.Splice;

/// <summary>docs/design.md §4 item 3: large messages pass byte for byte, without the relay ever holding one whole.</summary>
public sealed class LargeMessageTests
{
    private const int MessageBytes = 50 * 1024 * 1024;

    [Fact(Timeout = 60_000)]
    public async Task A_50_MiB_client_message_in_fragments_comes_back_from_an_echoing_runtime_byte_identical()
    {
        var runtime = FakeRuntime.Start();
        runtime.Echo = true;
        await using var harness = await SpliceHarness.StartAsync(runtime: runtime);
        var (client, _) = await harness.AttachAsync();
        await using var __ = client;
        var message = RandomNumberGenerator.GetBytes(MessageBytes);
        int[] cuts = [0, 7, 13 * 1024 * 1024 + 1, 31 * 1024 * 1024 + 5, MessageBytes];

        var send = Task.Run(async () =>
        {
            for (var i = 0; i + 1 < cuts.Length; i++)
            {
                var opcode = i == 0 ? FakeRuntimeFrame.Binary : FakeRuntimeFrame.Continuation;
                await client.SendFrameAsync(opcode, message[cuts[i]..cuts[i + 1]], fin: i + 2 == cuts.Length);
            }
        });

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var frames = 0;
        long received = 0;
        while (true)
        {
            var frame = await client.ReadFrameAsync();
            Assert.Equal(frames == 0 ? FakeRuntimeFrame.Binary : FakeRuntimeFrame.Continuation, frame.Opcode);
            Assert.False(frame.Masked);
            hash.AppendData(frame.Payload);
            received += frame.Payload.Length;
            frames++;
            if (frame.Fin)
            {
                break;
            }
        }

        await send;
        Assert.Equal(cuts.Length - 1, frames);
        Assert.Equal(MessageBytes, received);
        Assert.Equal(SHA256.HashData(message), hash.GetHashAndReset());
        Assert.Empty(harness.Runtime.Errors);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_50_MiB_runtime_message_reaches_the_client_byte_identical()
    {
        await using var harness = await SpliceHarness.StartAsync();
        var (client, runtime) = await harness.AttachAsync();
        await using var _ = client;
        var message = RandomNumberGenerator.GetBytes(MessageBytes);
        var wire = FakeRuntimeFrame.Encode(FakeRuntimeFrame.Binary, message);

        var send = runtime.SendRawAsync(wire);
        var frame = await client.ReadFrameAsync();
        await send;

        Assert.True(frame.Fin);
        Assert.Equal(MessageBytes, frame.Payload.Length);
        Assert.Equal(SHA256.HashData(message), SHA256.HashData(frame.Payload));

        // The splice still works afterwards, both ways.
        await client.SendFrameAsync(FakeRuntimeFrame.Text, "after"u8.ToArray());
        Assert.Equal("after", (await runtime.ReadFrameAsync()).PayloadText);
    }
}
