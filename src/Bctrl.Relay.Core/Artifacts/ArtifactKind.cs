namespace Bctrl.Relay.Artifacts;

/// <summary>What a captured runtime message may hold (docs/artifacts.md).</summary>
internal enum ArtifactKind
{
    /// <summary>The result of <c>Page.captureScreenshot</c>: <c>result.data</c>, base64.</summary>
    Screenshot,

    /// <summary>The result of <c>Page.printToPDF</c>: <c>result.data</c>, base64.</summary>
    Pdf,

    /// <summary>A <c>Page.screencastFrame</c> event, sampled: <c>params.data</c>, base64.</summary>
    ScreencastFrame,

    /// <summary>The result of an <c>IO.read</c> of a PDF's stream (<see cref="PdfStreams"/>): one chunk of a <see cref="Pdf"/>.</summary>
    PdfChunk,

    /// <summary>A download event (<c>Browser.downloadWillBegin</c>, <c>Browser.downloadProgress</c>, or their <c>Page.</c> forms).</summary>
    Download,
}
