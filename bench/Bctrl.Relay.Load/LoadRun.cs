using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Bctrl.Relay.Load;

/// <summary>
/// The whole run: start the fake runtime and one relay process per relay target, visit every scenario and target in
/// interleaved rounds (direct, pipes, norec, stream in odd rounds, the reverse in even ones) so drift in the shared
/// machine spreads over all targets and falls on no pair in one direction only, then report medians. Relays are
/// stopped on every way out.
/// </summary>
internal static class LoadRun
{
    public static async Task<int> RunAsync(LoadOptions options)
    {
#if DEBUG
        const bool debugBuild = true;
#else
        const bool debugBuild = false;
#endif
        var relayDll = options.RelayDll ?? DefaultRelayDll();
        if ((debugBuild || relayDll.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal)) && !options.AllowDebug)
        {
            Console.Error.WriteLine("Refusing to measure a Debug build: run with -c Release (or pass --allow-debug for a smoke test).");
            return 2;
        }

        var relayTargets = options.Targets.Select(RelaySetup.Find).OfType<RelaySetup>()
            .Select(s => s with { Environment = options.RelayEnvironment }).ToArray();
        if (relayTargets.Length > 0 && !File.Exists(relayDll))
        {
            Console.Error.WriteLine($"No relay at {relayDll}: build it (dotnet build -c Release src/Bctrl.Relay) or pass --relay-dll.");
            return 2;
        }

        if (!ProcStat.IsSupported)
        {
            Console.Error.WriteLine("No /proc here: relay CPU cannot be measured; this tool needs Linux.");
            return 2;
        }

        // Peers: from Debian's packages; a missing one is installed when this runs as root on Debian (as in CI).
        var peerBinaries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var peer in options.Targets.Select(PeerSetup.Find).OfType<PeerSetup>().ToArray())
        {
            if ((peer.Locate() ?? (peer.TryInstall() ? peer.Locate() : null)) is { } binary)
            {
                peerBinaries[peer.Name] = binary;
            }
            else if (options.TargetsGiven)
            {
                Console.Error.WriteLine($"{peer.Name} is not installed: apt-get install {peer.Package} (or leave it out of --targets).");
                return 2;
            }
            else
            {
                Console.Error.WriteLine($"{peer.Name} is not installed (apt-get install {peer.Package}); running without it.");
                options.WithoutTargets([peer.Name]);
            }
        }

        // 4,000 idle attaches are 8,000 sockets in this process (client and runtime ends) and 8,000 in the proxy, which
        // inherits this process's limit (.NET raises its soft limit to the hard one at start); 20,000 are 40,000. Raised
        // here, before any child starts, where that is allowed (root); idle-20k is skipped where it is not.
        var filesNeeded = options.Scenarios.Select(s => s.FilesNeeded).DefaultIfEmpty(0).Max();
        if (filesNeeded > 0 && ProcStat.OpenFileLimits() is { } before && before.Soft < filesNeeded)
        {
            var raised = OpenFileLimit.Raise(Math.Max(OpenFileLimit.Wanted, filesNeeded));
            Console.WriteLine(raised > before.Soft
                ? string.Create(CultureInfo.InvariantCulture, $"open-file limit raised from {before.Soft:#,0} to {raised:#,0} (soft and hard), for this tool and every proxy it starts")
                : string.Create(CultureInfo.InvariantCulture, $"open-file limit {before.Soft:#,0} (hard {before.Hard:#,0}): could not raise it (raising the hard limit takes CAP_SYS_RESOURCE, which containers often drop even for root)"));
        }

        foreach (var scenario in options.Scenarios.Where(s => s.Kind == ScenarioKind.Idle).ToArray())
        {
            if (ProcStat.OpenFileLimits() is not { } files || files.Soft >= scenario.FilesNeeded)
            {
                continue;
            }

            if (scenario.Name == Scenario.ManyIdleName)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{scenario.Name} skipped: {scenario.Attaches:#,0} idle attaches need {scenario.FilesNeeded:#,0} open files here and in each proxy, and the limit is {files.Soft:#,0} (run as root with CAP_SYS_RESOURCE, or start the tool with a hard limit of at least {scenario.FilesNeeded + 1000}: ulimit -n, docker run --ulimit nofile=…)."));
                options.WithoutScenario(scenario);
                continue;
            }

            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"The open-file limit ({files.Soft}) is too low for {scenario.Attaches} idle attaches (needs {scenario.FilesNeeded}): raise it (ulimit -n {scenario.FilesNeeded + 1000}) or pass --idle-attaches."));
            return 2;
        }

        // Connections each peer must hold: the largest idle scenario's attaches.
        var peerAttaches = options.Scenarios.Where(s => s.Kind == ScenarioKind.Idle).Select(s => s.Attaches).DefaultIfEmpty(0).Max();

        // Ctrl+C or a SIGTERM (someone's broad kill on a shared machine) ends the run cleanly: relays stopped, rounds reported.
        using var cancel = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            Console.Error.WriteLine($"{context.Signal} received: stopping.");
            cancel.Cancel();
        }

        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

        var startedAt = DateTimeOffset.UtcNow;
        var source = SourceVersion(relayDll);
        var samples = new List<RunSample>();
        var relays = new Dictionary<string, RelayProcess>(StringComparer.Ordinal);
        var peers = new Dictionary<string, PeerProcess>(StringComparer.Ordinal);
        var proxies = new Dictionary<string, IProxyProcess>(StringComparer.Ordinal);
        var samplers = new Dictionary<string, SamplerCounts?>(StringComparer.Ordinal);
        var negotiated = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var runtime = FakeRuntime.Start();

        // The TLS targets' certificate, made for this run and deleted after it (bench/README.md, "TLS targets").
        using var certificates = options.NeedsCertificates ? LoadCertificates.Create() : null;
        try
        {
            foreach (var setup in relayTargets)
            {
                var relay = await RelayProcess.StartAsync(relayDll, setup, runtime, certificates, cancel.Token).ConfigureAwait(false);
                relays[setup.Name] = relay;
                proxies[setup.Name] = relay;
            }

            foreach (var (name, binary) in peerBinaries)
            {
                var peer = await PeerProcess.StartAsync(PeerSetup.Find(name)!, binary, options.PeerWorkers, peerAttaches, runtime, certificates, cancel.Token).ConfigureAwait(false);
                peers[name] = peer;
                proxies[name] = peer;
            }

            var targets = options.Targets
                .Select(t => new LoadTarget(LoadReport.TargetName(t), runtime, proxies.GetValueOrDefault(LoadReport.TargetName(t)), certificates))
                .ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"fake runtime on 127.0.0.1:{runtime.Port}; {string.Join("; ", relays.Select(r => $"{r.Key} ({r.Value.Setup.Description}; pid {r.Value.ProcessId}) on {r.Value.BaseUrl}"))}"));
            foreach (var (name, peer) in peers)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name} ({peer.Version}; {(peer.Setup.IsNginx ? "worker_processes" : "nbthread")} {peer.Workers}; pid {peer.ProcessId}) on {(peer.Setup.Tls ? "https" : "http")}://127.0.0.1:{peer.Port}"));
            }

            if (certificates is not null)
            {
                // One handshake per TLS target, as the clients make it: both must negotiate the same protocol and cipher
                // for their comparison to be about the proxies rather than the cryptography.
                var tlsPorts = relays.Values.Where(r => r.Setup.Tls).Select(r => (r.Name, r.BaseUrl.Port))
                    .Concat(peers.Values.Where(p => p.Setup.Tls).Select(p => (p.Name, p.Port)));
                foreach (var (name, port) in tlsPorts)
                {
                    negotiated[name] = await certificates.ProbeAsync(port, cancel.Token).ConfigureAwait(false);
                }

                Console.WriteLine(
                    $"TLS: one {LoadCertificates.KeyKind} certificate for 127.0.0.1 from a throwaway authority; negotiated: {string.Join(", ", negotiated.Select(n => $"{n.Key} {n.Value}"))}");
            }

            var perWindow = options.Warmup + options.Measure + TimeSpan.FromSeconds(0.5);
            var nominal = perWindow * options.Rounds * options.Scenarios.Count * targets.Length;
            var quiet = new QuietMachine(options.MaxOtherCores, nominal, proxies.Values);
            var firstRound = options.WarmupRound ? 0 : 1;
            for (var round = firstRound; round <= options.Rounds; round++)
            {
                foreach (var scenario in options.Scenarios)
                {
                    foreach (var target in round % 2 == 1 ? targets : targets.Reverse())
                    {
                        // Idle memory is the proxy's: nothing to measure for direct, and nothing to warm up.
                        if (scenario.Kind == ScenarioKind.Idle && (target.Proxy is null || round == 0))
                        {
                            continue;
                        }

                        var idle = proxies.Values.Where(r => r != target.Proxy).ToArray();
                        var measure = round == 0 ? TimeSpan.FromSeconds(Math.Min(1, options.Measure.TotalSeconds)) : options.Measure;
                        var sample = scenario.Kind == ScenarioKind.Idle
                            ? await RunIdleAsync(scenario, target, idle, round, measure, relayDll, runtime, cancel.Token).ConfigureAwait(false)
                            : await RunQuietlyAsync(scenario, target, idle, round, options.Warmup, measure, quiet, round == 0 ? 0 : options.Retries, cancel.Token)
                                .ConfigureAwait(false);
                        Console.WriteLine(Describe(round, scenario, sample));
                        if (round > 0)
                        {
                            samples.Add(sample);
                        }

                        var dead = proxies.FirstOrDefault(r => r.Value.HasExited);
                        if (dead.Value is not null)
                        {
                            Console.Error.WriteLine($"{dead.Key} exited during the run:");
                            Console.Error.WriteLine(string.Join(Environment.NewLine, dead.Value.Tail()));
                            cancel.Cancel();
                            cancel.Token.ThrowIfCancellationRequested();
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Console.Error.WriteLine("Cancelled; reporting the rounds done.");
        }
        catch (InvalidOperationException exception)
        {
            Console.Error.WriteLine(exception.Message);
            return 1;
        }
        finally
        {
            foreach (var (name, relay) in relays)
            {
                samplers[name] = relay.HasExited ? null : await relay.ReadSamplerCountsAsync(CancellationToken.None).ConfigureAwait(false);
                await relay.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var peer in peers.Values)
            {
                await peer.DisposeAsync().ConfigureAwait(false);
            }
        }

        var report = new LoadReport(options, options.Targets, samples, relays, peers, samplers, runtime, startedAt, relayDll, cancel.IsCancellationRequested, source)
        {
            Negotiated = negotiated,
        };
        foreach (var peer in peers.Values)
        {
            peer.DeleteDirectory();
        }

        report.Print(Console.Out);
        if (options.OutPath is not null)
        {
            report.WriteJson(options.OutPath);
            Console.WriteLine($"wrote {options.OutPath}");
        }

        return report.HasProblems ? 1 : 0;
    }

    /// <summary>
    /// Idle memory, measured on a fresh process of the target's kind (same settings), so that memory an earlier
    /// scenario or round freed, and the proxy kept (a GC heap, malloc arenas, HAProxy's pools), cannot hide what the
    /// attaches cost. The fresh proxy first serves 64 attaches, opened and closed, so one-time costs (a relay's JIT and
    /// thread-pool growth, first pool allocations) fall before the baseline. Not re-run for a busy machine: memory does
    /// not depend on it.
    /// </summary>
    private static async Task<RunSample> RunIdleAsync(
        Scenario scenario, LoadTarget target, IReadOnlyList<IProxyProcess> idle, int round, TimeSpan measure, string relayDll, FakeRuntime runtime,
        CancellationToken cancellationToken)
    {
        IProxyProcess fresh = target.Proxy switch
        {
            RelayProcess relay => await RelayProcess.StartAsync(relayDll, relay.Setup, runtime, relay.Certificates, cancellationToken).ConfigureAwait(false),
            PeerProcess peer => await PeerProcess.StartAsync(peer.Setup, peer.BinaryPath, peer.Workers, peer.Attaches, runtime, peer.Certificates, cancellationToken)
                .ConfigureAwait(false),
            _ => throw new InvalidOperationException("idle memory needs a proxy"),
        };
        try
        {
            var freshTarget = new LoadTarget(target.Name, runtime, fresh, target.Certificates);
            var warm = await ScenarioRunner.RunAsync(Scenario.Idle(64), freshTarget, idle, round, TimeSpan.Zero, TimeSpan.FromSeconds(0.5), cancellationToken)
                .ConfigureAwait(false);
            if (warm.Failed)
            {
                return warm with { Scenario = scenario.Name };
            }

            var sample = await ScenarioRunner.RunAsync(scenario, freshTarget, idle, round, TimeSpan.Zero, measure, cancellationToken).ConfigureAwait(false);
            if (fresh is RelayProcess { Output: var output } && output.Read() is { Errors: > 0 } snapshot)
            {
                sample = sample with
                {
                    Errors = sample.Errors + snapshot.Errors,
                    FirstError = sample.FirstError ?? "the fresh relay logged: " + snapshot.Problems.FirstOrDefault(),
                };
            }

            return sample;
        }
        finally
        {
            await fresh.DisposeAsync().ConfigureAwait(false);
            (fresh as PeerProcess)?.DeleteDirectory();
        }
    }

    /// <summary>One window; run again (bounded) while other processes disturbed it, keeping the least disturbed one.</summary>
    private static async Task<RunSample> RunQuietlyAsync(
        Scenario scenario, LoadTarget target, IReadOnlyList<IProxyProcess> idle, int round, TimeSpan warmup, TimeSpan measure, QuietMachine quiet,
        int retries, CancellationToken cancellationToken)
    {
        RunSample? best = null;
        for (var attempt = 1; ; attempt++)
        {
            await quiet.WaitAsync(cancellationToken).ConfigureAwait(false);
            var started = Stopwatch.GetTimestamp();
            var sample = await ScenarioRunner.RunAsync(scenario, target, idle, round, warmup, measure, cancellationToken).ConfigureAwait(false);
            if (attempt > 1)
            {
                quiet.Spend(Stopwatch.GetElapsedTime(started));
            }

            if (best is null || (!sample.Failed && (best.Failed || QuietMachine.OtherCores(sample) < QuietMachine.OtherCores(best))))
            {
                best = sample with { Attempts = attempt };
            }
            else
            {
                best = best with { Attempts = attempt };
            }

            if (sample.Failed || !quiet.IsDisturbed(sample) || attempt > retries || !quiet.HasBudget)
            {
                return best;
            }
        }
    }

    private static string Describe(int round, Scenario scenario, RunSample sample)
    {
        var label = round == 0 ? "warm-up" : $"round {round}";
        if (sample.Failed)
        {
            return $"{label,-8} {scenario.Name,-14} {sample.Target,-13} FAILED: {sample.FirstError}";
        }

        var value = LoadReport.Format(scenario, sample.Value(scenario));
        var cpu = scenario.Kind switch
        {
            ScenarioKind.AttachRate when sample.CpuMicrosecondsPerAttach is { } perAttach
                => string.Create(CultureInfo.InvariantCulture, $"  proxy {perAttach:0} CPU µs/attach, endpoint/lease {sample.EndpointSeconds / Math.Max(1, sample.Messages) * 1e6:0} µs/attach"),
            ScenarioKind.RoundTrip when sample.LatencyP99Microseconds is { } p99
                => string.Create(CultureInfo.InvariantCulture, $"  p50 {sample.LatencyP50Microseconds:#,0} µs, p99 {p99:#,0} µs{(sample.CpuSecondsPerGB is { } perGB ? $", proxy {perGB:0.00} CPU s/GB" : string.Empty)}"),
            ScenarioKind.Idle => string.Create(CultureInfo.InvariantCulture, $"  RSS {sample.RssBeforeBytes / 1048576.0:0.0} → {sample.RssAfterBytes / 1048576.0:0.0} MiB for {sample.Messages:#,0} attaches"),
            _ when sample.CpuSecondsPerGB is { } perGB => string.Create(CultureInfo.InvariantCulture, $"  proxy {perGB:0.00} CPU s/GB"),
            _ => string.Empty,
        };
        var other = sample.ForeignCpuSeconds is { } foreign && foreign / sample.Seconds > 0.2
            ? string.Create(CultureInfo.InvariantCulture, $"  (other processes {foreign / sample.Seconds * 100:0}% of a core)")
            : string.Empty;
        var attempts = sample.Attempts > 1 ? $"  (best of {sample.Attempts})" : string.Empty;
        var errors = sample.Errors > 0 ? $"  {sample.Errors} error(s): {sample.FirstError}" : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"{label,-8} {scenario.Name,-14} {sample.Target,-13} {value,12} {scenario.Unit}{cpu}{other}{attempts}{errors}");
    }

    /// <summary>
    /// <c>git describe --always --dirty</c> of the relay's tree when the run starts (best effort), so a result names what
    /// it measured; with <c>--no-build</c> the relay may be older than the tree.
    /// </summary>
    private static string? SourceVersion(string relayDll)
    {
        try
        {
            var start = new ProcessStartInfo("git", "describe --always --dirty")
            {
                WorkingDirectory = Path.GetDirectoryName(relayDll)!,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var git = Process.Start(start);
            if (git is null)
            {
                return null;
            }

            var output = git.StandardOutput.ReadToEndAsync();
            if (!git.WaitForExit(5000))
            {
                git.Kill();
                return null;
            }

            return git.ExitCode == 0 ? output.Result.Trim() : null;
        }
        catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }

    /// <summary>The relay built next to this tool: <c>src/Bctrl.Relay/bin/&lt;configuration&gt;/net10.0/Bctrl.Relay.dll</c> of the repository.</summary>
    private static string DefaultRelayDll()
    {
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Bctrl.Relay.sln")))
        {
            directory = directory.Parent;
        }

        var root = directory?.FullName ?? Directory.GetCurrentDirectory();
        return Path.Combine(root, "src", "Bctrl.Relay", "bin", configuration, "net10.0", "Bctrl.Relay.dll");
    }
}
