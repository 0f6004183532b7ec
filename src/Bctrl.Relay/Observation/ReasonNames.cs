using Bctrl.Relay.Splice;

namespace Bctrl.Relay.Observation;

/// <summary>snake_case names of <see cref="AttachEndReason"/>, made once: for records and metric labels.</summary>
internal static class ReasonNames
{
    private static readonly string[] Names = Enum.GetValues<AttachEndReason>()
        .Select(r => string.Concat(r.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString())))
        .ToArray();

    public static string Of(AttachEndReason reason) => Names[(int)reason];
}
