using Bctrl.Relay.Frames;

namespace Bctrl.Relay.Tests.Frames;

/// <summary>
/// Issue 8 hostile suite: the tracker against <see cref="ReferenceValidator"/> on random valid and mutated streams cut at
/// random points, both directions. Quick by default; <c>RELAY_FUZZ_ITERATIONS</c> makes it long.
/// </summary>
public sealed class FrameTrackerFuzzTests
{
    private const long Limit = 150_000;

    [Fact]
    public void Tracker_verdicts_match_the_reference_on_random_streams_and_cuts()
    {
        var iterations = FuzzStreams.Iterations(quick: 400);
        var firstSeed = FuzzStreams.FirstSeed(0);
        var violations = 0;
        for (var i = 0; i < iterations; i++)
        {
            var seed = firstSeed + i;
            var random = new Random(seed);
            var masked = random.Next(2) == 0;
            var stream = FuzzStreams.Next(random, masked);
            var cuts = FuzzStreams.Cuts(random, stream.Length);
            var context = $"seed {seed} (RELAY_FUZZ_SEED={seed} RELAY_FUZZ_ITERATIONS=1), {(masked ? "client" : "runtime")} direction, {stream.Length} bytes, cuts [{string.Join(',', cuts.Take(20))}{(cuts.Length > 20 ? ",…" : "")}]";

            ReferenceVerdict expected = ReferenceValidator.Validate(stream, masked, Limit);
            var tracker = new FrameTracker(masked ? FrameDirection.ClientToRuntime : FrameDirection.RuntimeToClient, Limit);
            FeedResult actual = TrackerFeed.Cut(ref tracker, stream, cuts);

            AssertSameVerdict(expected, actual, context);
            violations += expected.Violation == FrameViolation.None ? 0 : 1;
        }

        // The mutations must actually reach the rules, or the test proves nothing.
        Assert.True(iterations < 50 || violations > iterations / 10, $"only {violations} of {iterations} streams broke a rule");
    }

    private static void AssertSameVerdict(ReferenceVerdict expected, FeedResult actual, string context)
    {
        var events = actual.Violation is null ? actual.Events.Take(actual.Events.Count - 1).ToList() : actual.Events;
        Assert.True(
            expected.Frames.Count == events.Count,
            $"{context}: the reference accepted {expected.Frames.Count} frames, the tracker reported {events.Count}; violation {actual.Violation?.Violation}, expected {expected.Violation} at {expected.ViolationAt}");
        for (var f = 0; f < events.Count; f++)
        {
            ReferenceFrame frame = expected.Frames[f];
            TrackerEvent e = events[f];
            var position = frame.IsControl ? frame.End : frame.Start + frame.HeaderLength;
            var same = e.Status == (frame.IsControl ? TrackStatus.ControlFrame : TrackStatus.DataFrameHeader)
                && e.Position == position
                && (int)e.Header.Opcode == frame.Opcode
                && e.Header.Fin == frame.Fin
                && e.Header.PayloadLength == frame.PayloadLength
                && e.Header.HeaderLength == frame.HeaderLength;
            Assert.True(same, $"{context}: frame {f} differs: reference {frame}, tracker {e}");
        }

        var violation = actual.Violation?.Violation ?? FrameViolation.None;
        Assert.True(expected.Violation == violation, $"{context}: reference says {expected.Violation} at {expected.ViolationAt}, tracker says {violation}");
        if (actual.Violation is { } report)
        {
            // The tracker points at the offending frame's first byte when the failing read holds it, else at 0.
            var reported = expected.ViolationAt >= report.SpanStart ? report.SpanStart + report.Consumed : report.Consumed;
            var wanted = expected.ViolationAt >= report.SpanStart ? expected.ViolationAt : 0;
            Assert.True(reported == wanted, $"{context}: violation reported at {reported}, expected {wanted} (span from {report.SpanStart})");
        }
    }
}
