using Bctrl.Relay.Artifacts;

namespace Bctrl.Relay.Tests.Artifacts;

/// <summary>
/// An <see cref="IArtifactSink"/> that keeps a copy of each message it takes and the reasons it is told of, or refuses
/// every message (a full queue) when told to. A taken message's buffer goes back to the pool at once, as the pump
/// would after it, so a test that leaks nothing can see that a refused one was released by the capture itself.
/// </summary>
internal sealed class RecordingArtifactSink : IArtifactSink
{
    private readonly List<TakenMessage> _taken = [];
    private readonly List<CapturedMessage> _refused = [];
    private readonly List<string> _lost = [];

    /// <summary>When set, every message is refused, as by a full queue.</summary>
    public bool Full { get; set; }

    public IReadOnlyList<TakenMessage> Taken => _taken;

    /// <summary>The messages refused, as the capture left them after the refusal.</summary>
    public IReadOnlyList<CapturedMessage> Refused => _refused;

    public IReadOnlyList<string> Lost => _lost;

    public bool TryTake(CapturedMessage message)
    {
        if (Full)
        {
            _refused.Add(message);
            return false;
        }

        _taken.Add(new TakenMessage(message, message.Message.ToArray()));
        Reserved -= message.Reserved; // taken and handled at once, as the pump would
        message.Release();
        return true;
    }

    public void CountLost(string reason) => _lost.Add(reason);

    /// <summary>Room left for reservations; a reservation over it is refused and counted <c>queue_full</c>, as the queue does.</summary>
    public long Room { get; set; } = long.MaxValue;

    /// <summary>Bytes reserved now.</summary>
    public long Reserved { get; private set; }

    public bool TryReserve(long bytes)
    {
        if (Reserved + bytes > Room)
        {
            _lost.Add(ArtifactLoss.QueueFull);
            return false;
        }

        Reserved += bytes;
        return true;
    }

    public void Unreserve(long bytes) => Reserved -= bytes;

    /// <summary>A taken message and the bytes it held when taken.</summary>
    internal sealed record TakenMessage(CapturedMessage Message, byte[] Bytes);
}
