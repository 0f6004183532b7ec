namespace Bctrl.Relay.Artifacts;

/// <summary>
/// The PDFs of an attach that the runtime hands over as streams (docs/artifacts.md, "Streamed PDFs"): Puppeteer's and
/// Playwright's <c>page.pdf()</c> send <c>Page.printToPDF</c> with <c>transferMode: "ReturnAsStream"</c>, get
/// <c>{"data":"","stream":"&lt;handle&gt;"}</c>, and read the document with <c>IO.read</c> until <c>eof</c>. The sampler
/// notes such handles here, and which <c>IO.read</c> commands read one, so that only those commands' results are
/// captured (never a trace's or a response body's stream). Both pumps reach it: one lock, per attach.
/// </summary>
internal sealed class PdfStreams
{
    private const int MaxTracked = 256;

    private readonly Lock _lock = new();
    // Each PDF stream's handle, and the number its next read takes: the pump joins chunks only in unbroken order, so a
    // read whose result was not captured (too large, no room, unmatched) ends that PDF instead of leaving a hole in it.
    private readonly Dictionary<string, int> _handles = new(StringComparer.Ordinal);
    private readonly Dictionary<(string? Session, long Id), (string Handle, int Sequence)> _reads = [];

    /// <summary>A <c>Page.printToPDF</c> result, whole: notes and returns its <c>result.stream</c> handle, if it has one.</summary>
    public string? NoteResult(ReadOnlySpan<byte> message)
    {
        if (ArtifactContent.ReadString(message, "result"u8, "stream"u8) is not { } handle)
        {
            return null;
        }

        lock (_lock)
        {
            if (_handles.Count >= MaxTracked)
            {
                _handles.Clear(); // a client that never reads its streams to the end must not grow this
            }

            _handles[handle] = 0;
        }

        return handle;
    }

    /// <summary>An <c>IO.read</c> or <c>IO.close</c> command, whole: notes a read of a PDF's stream; forgets a closed one.</summary>
    public void NoteCommand(string method, string? session, long? id, ReadOnlySpan<byte> message)
    {
        if (ArtifactContent.ReadString(message, "params"u8, "handle"u8) is not { } handle)
        {
            return;
        }

        lock (_lock)
        {
            if (method == "IO.close")
            {
                _handles.Remove(handle);
            }
            else if (id is { } readId && _handles.TryGetValue(handle, out var sequence))
            {
                if (_reads.Count >= MaxTracked)
                {
                    _reads.Clear();
                }

                _handles[handle] = sequence + 1;
                _reads[(session, readId)] = (handle, sequence);
            }
        }
    }

    /// <summary>Whether the result of command <paramref name="id"/> answers a read of a PDF's stream: which, and its place among the stream's reads.</summary>
    public bool TakeRead(string? session, long id, out string? handle, out int sequence)
    {
        lock (_lock)
        {
            var found = _reads.Remove((session, id), out var read);
            (handle, sequence) = found ? read : (null, 0);
            return found;
        }
    }
}
