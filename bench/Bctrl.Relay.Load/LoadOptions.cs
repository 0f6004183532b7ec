using System.Globalization;

namespace Bctrl.Relay.Load;

/// <summary>The command line. Every value is bounded, so a run always ends by itself.</summary>
internal sealed class LoadOptions
{
    private readonly List<KeyValuePair<string, string>> _relayEnvironment = [];

    public const string Usage = """
        Bctrl.Relay.Load: drives docs/design.md §9's scenarios against a fake runtime directly, through relay processes and
        through nginx and HAProxy, interleaved in rounds; prints medians, ratios to direct and to the better peer, and
        recording on / off.

          targets: direct        the fake runtime itself
                   relay-pipes   the relay as deployed: Relay:Transport=Relay (its own listeners and I/O loops,
                                 issue 9), recording on (Relay:Observation:Enabled=true); the relay in the
                                 comparison with the peers
                   relay-norec   Relay:Transport=Relay, recording off (Relay:Observation:Enabled=false)
                   relay-stream  Relay:Transport=Relay, Relay:Splice:ClientTransport=Stream, recording on
                   relay-dispatch  Relay:Transport=Relay, Relay:Splice:InlineIo=false, recording on
                   relay-sockets Relay:Transport=Sockets (Kestrel's Sockets transport, the splice on its pipes: the
                                 path before issue 9), ClientTransport=Pipes, recording on
                   nginx         nginx as a WebSocket proxy (apt-get install nginx)
                   haproxy       HAProxy as a WebSocket proxy (apt-get install haproxy)
                   relay-tls     relay-pipes listening on https:// (Relay:Tls:CertificatePath and KeyPath); attaches
                                 go to its wss:// lease URLs (issue 10)
                   nginx-tls     nginx terminating TLS (listen ssl, TLS 1.2 and 1.3, a shared session cache) and
                                 proxying plain to the runtime as nginx does
                   Both TLS targets serve one certificate for 127.0.0.1 (ECDSA P-256) signed by a throwaway
                   authority the tool makes at start, in a temporary directory removed at the end; the clients
                   trust that authority alone. They run only when named in --targets; with both, the report adds
                   a TLS block (relay-tls over nginx-tls, and each over its plain counterpart):
                     --targets relay-pipes,relay-tls,nginx,nginx-tls --scenarios rt-256b-16,echo-1mib-4,stream-1mib-2
                   relay-policy  relay-pipes whose leases carry a CDP method policy (noBrowserControl), so every
                                 command is read by the policy (issue 11); named when wanted, and with relay-pipes
                                 the report adds a policy on / off block:
                     --targets relay-pipes,relay-policy --scenarios rt-256b-16,rt-600b-64
                   relay-artifacts  relay-pipes whose leases keep artifacts (record.artifacts): the stream
                                 scenario's screencast frames are copied and stored, one a second per attach
                                 (issue 11, docs/artifacts.md); named when wanted:
                     --targets relay-pipes,relay-artifacts --scenarios rt-256b-16,stream-1mib-2

                   ClientTransport (Pipes, Stream) and InlineIo act on the splice only on Kestrel's Sockets
                   transport; on the relay transport relay-stream and relay-dispatch splice as relay-pipes does.
                   To compare them as before, add --relay-env Relay__Transport=Sockets (it applies to every relay).

          dotnet run -c Release --project bench/Bctrl.Relay.Load -- [options]

          --rounds N           measured rounds (1-50; default 3)
          --seconds S          measured window per scenario and target (0.5-300; default 5)
          --warmup S           traffic before each window (0-60; default 1)
          --quick              1 s windows, 0.5 s warm-up, no warm-up round, 200 idle attaches, no idle-20k
                               unless named in --scenarios (then 400) (a smoke run of about 4 minutes with all
                               six targets)
          --no-warmup-round    skip the unrecorded first round that lets every process reach tier-1 code
          --max-other-cpu C    re-run a window in which other processes used more than C cores, and wait briefly
                               for a quiet machine before each (default 0.25; 0 turns both off); bounded by a
                               budget of the run's nominal length
          --retries N          re-runs of one disturbed window (0-5; default 2)
          --out PATH           also write the results as JSON
          --scenarios LIST     comma-separated, of: rt-256b-16, rt-600b-64, echo-1mib-4, stream-1mib-2, attach-8,
                               idle, idle-20k (default all)
          --idle-attaches N    attaches the idle scenario holds open (10-20000; default 4000, --quick 200);
                               idle-20k always holds 20,000. Both need 2 descriptors per attach in this tool and
                               in the proxy: as root the tool raises its open-file limit (to 200,000) for its
                               children too; where it cannot, idle-20k is skipped with a note
          --targets LIST       comma-separated, of: direct, relay-pipes, relay-norec, relay-stream, relay-dispatch,
                               relay-sockets, relay-tls, relay-policy, relay-artifacts, nginx, nginx-tls, haproxy (the "relay-" may
                               be left out; default all but the TLS targets, relay-policy and relay-artifacts, without
                               a peer that is not installed)
          --peer-workers N     nginx worker_processes and HAProxy nbthread (1-64; default the processor count)
          --relay-dll PATH     the relay to run (default src/Bctrl.Relay/bin/Release/net10.0/Bctrl.Relay.dll)
          --relay-env NAME=VALUE
                               an environment variable for every relay process (repeatable), to try a setting
          --allow-debug        run even though this tool or the relay is a Debug build (numbers are then meaningless)
        """;

    public int Rounds { get; private set; } = 3;

    public TimeSpan Measure { get; private set; } = TimeSpan.FromSeconds(5);

    public TimeSpan Warmup { get; private set; } = TimeSpan.FromSeconds(1);

    public bool WarmupRound { get; private set; } = true;

    public bool Quick { get; private set; }

    public double MaxOtherCores { get; private set; } = 0.25;

    public int Retries { get; private set; } = 2;

    public string? OutPath { get; private set; }

    public string? RelayDll { get; private set; }

    public bool AllowDebug { get; private set; }

    public IReadOnlyList<KeyValuePair<string, string>> RelayEnvironment => _relayEnvironment;

    public IReadOnlyList<Scenario> Scenarios { get; private set; } = Scenario.All;

    /// <summary>Whether <c>--targets</c> was given: then a peer that is not installed is an error, not skipped.</summary>
    public bool TargetsGiven { get; private set; }

    public int IdleAttaches { get; private set; } = Scenario.FullIdleAttaches;

    public int PeerWorkers { get; private set; } = Environment.ProcessorCount;

    /// <summary>Short names (<c>direct</c>, <c>pipes</c>, <c>norec</c>, <c>stream</c>, <c>dispatch</c>, <c>sockets</c>, <c>tls</c>, the peers), in the order odd rounds visit them.</summary>
    public IReadOnlyList<string> Targets { get; private set; } = RelaySetup.DefaultTargets;

    /// <summary>Whether a TLS target (<c>relay-tls</c>, <c>nginx-tls</c>) runs, so the run needs its certificate.</summary>
    public bool NeedsCertificates => Targets.Any(RelaySetup.IsTls);

    public IReadOnlyList<string> Arguments { get; private set; } = [];

    /// <summary>Parses <paramref name="args"/>; on a bad one, writes why and returns null.</summary>
    public static LoadOptions? Parse(string[] args, TextWriter error)
    {
        var options = new LoadOptions { Arguments = args };
        var scenariosGiven = false;
        if (args.Contains("--quick"))
        {
            options.Quick = true;
            options.Measure = TimeSpan.FromSeconds(1);
            options.Warmup = TimeSpan.FromSeconds(0.5);
            options.WarmupRound = false;
            options.IdleAttaches = Scenario.QuickIdleAttaches;
        }

        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{name} needs a value.");
            try
            {
                switch (name)
                {
                    case "--quick":
                        break;
                    case "--rounds":
                        options.Rounds = (int)Number(Value(), name, 1, 50);
                        break;
                    case "--seconds":
                        options.Measure = TimeSpan.FromSeconds(Number(Value(), name, 0.5, 300));
                        break;
                    case "--warmup":
                        options.Warmup = TimeSpan.FromSeconds(Number(Value(), name, 0, 60));
                        break;
                    case "--no-warmup-round":
                        options.WarmupRound = false;
                        break;
                    case "--max-other-cpu":
                        options.MaxOtherCores = Number(Value(), name, 0, 64);
                        break;
                    case "--retries":
                        options.Retries = (int)Number(Value(), name, 0, 5);
                        break;
                    case "--out":
                        options.OutPath = Value();
                        break;
                    case "--relay-dll":
                        options.RelayDll = Path.GetFullPath(Value());
                        break;
                    case "--relay-env":
                        var pair = Value();
                        var equals = pair.IndexOf('=', StringComparison.Ordinal);
                        if (equals <= 0)
                        {
                            throw new FormatException("--relay-env takes NAME=VALUE.");
                        }

                        options._relayEnvironment.Add(new(pair[..equals], pair[(equals + 1)..]));
                        break;
                    case "--allow-debug":
                        options.AllowDebug = true;
                        break;
                    case "--scenarios":
                        scenariosGiven = true;
                        options.Scenarios = List(Value(), Scenario.All.Select(s => s.Name))
                            .Select(n => Scenario.All.First(s => s.Name == n)).ToArray();
                        break;
                    case "--idle-attaches":
                        options.IdleAttaches = (int)Number(Value(), name, 10, 20000);
                        break;
                    case "--peer-workers":
                        options.PeerWorkers = (int)Number(Value(), name, 1, 64);
                        break;
                    case "--targets":
                        options.TargetsGiven = true;
                        var wanted = List(
                            string.Join(',', Value().Split(',', StringSplitOptions.TrimEntries).Select(t => t.StartsWith("relay-", StringComparison.Ordinal) ? t["relay-".Length..] : t)),
                            RelaySetup.AllTargets);
                        options.Targets = RelaySetup.AllTargets.Where(wanted.Contains).ToArray();
                        break;
                    case "--help" or "-h":
                        error.WriteLine(Usage);
                        return null;
                    default:
                        throw new FormatException($"Unknown option {name}.");
                }
            }
            catch (FormatException exception)
            {
                error.WriteLine(exception.Message);
                error.WriteLine(Usage);
                return null;
            }
        }

        // --quick is CI's smoke run: 20,000 idle attaches would take minutes and 40,000 descriptors, so idle-20k is left
        // out unless named, and then runs at a smoke test's size.
        options.Scenarios = options.Scenarios
            .Where(s => !options.Quick || scenariosGiven || s.Name != Scenario.ManyIdleName)
            .Select(s => s.Name switch
            {
                "idle" => Scenario.Idle(options.IdleAttaches),
                Scenario.ManyIdleName when options.Quick => Scenario.Idle(Scenario.QuickManyIdleAttaches, s.Name),
                _ => s,
            })
            .ToArray();
        return options;
    }

    /// <summary>Drops a scenario the machine cannot run (idle-20k where the open-file limit cannot be raised).</summary>
    public void WithoutScenario(Scenario scenario) => Scenarios = Scenarios.Where(s => s != scenario).ToArray();

    /// <summary>Drops peers from the default targets (not from an explicit <c>--targets</c>).</summary>
    public void WithoutTargets(IEnumerable<string> names) => Targets = Targets.Except(names).ToArray();

    private static double Number(string text, string name, double min, double max)
        => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new FormatException($"{name} must be a number from {min} to {max}.");

    private static string[] List(string text, IEnumerable<string> known)
    {
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = names.Except(known).ToArray();
        if (names.Length == 0 || unknown.Length > 0)
        {
            throw new FormatException($"Unknown: {string.Join(", ", unknown)}; known: {string.Join(", ", known)}.");
        }

        return names;
    }
}
