using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Bctrl.Relay.Load;

/// <summary>How one peer proxy is found and configured; <paramref name="Tls"/>: it terminates TLS with the run's certificate.</summary>
internal sealed record PeerSetup(string Name, string Binary, string Package, bool Tls = false)
{
    public static IReadOnlyList<PeerSetup> All { get; } =
    [
        new("nginx", "nginx", "nginx"),
        new("nginx-tls", "nginx", "nginx", Tls: true),
        new("haproxy", "haproxy", "haproxy"),
    ];

    /// <summary>nginx (plain or TLS): a master and its workers, configured by <c>worker_processes</c>.</summary>
    public bool IsNginx => Binary == "nginx";

    public static PeerSetup? Find(string name) => All.FirstOrDefault(p => p.Name == name);

    /// <summary>
    /// Installs the peer from Debian's packages (<c>apt-get install</c>) when this runs as root on a machine with
    /// apt-get; false otherwise or when the install fails. The package's own service is not this tool's concern: the
    /// tool runs the peer as its own child process on a free port.
    /// </summary>
    public bool TryInstall()
    {
        if (Environment.UserName != "root" || !File.Exists("/usr/bin/apt-get"))
        {
            return false;
        }

        Console.Error.WriteLine($"{Name} is not installed: apt-get install -y --no-install-recommends {Package}");
        var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/apt-get") { UseShellExecute = false };
        foreach (var argument in (string[])["install", "-y", "--no-install-recommends", Package])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var install = System.Diagnostics.Process.Start(start);
        if (install is null || !install.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            return false;
        }

        return install.ExitCode == 0;
    }

    /// <summary>The binary on PATH or in the sbin directories Debian installs it to; null when it is not installed.</summary>
    public string? Locate()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/usr/local/sbin", "/sbin"]))
        {
            var candidate = Path.Combine(directory, Binary);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>
/// nginx or HAProxy as a WebSocket proxy in front of the fake runtime: a child process of this tool with a generated
/// configuration in a temporary directory, listening on a free 127.0.0.1 port, logging off, in the foreground (so the
/// tool knows its PID and stops it by that PID alone). The client dials the runtime's browser socket path through it.
/// nginx-tls is nginx terminating TLS with the run's certificate (<see cref="LoadCertificates"/>) and proxying plain.
/// </summary>
/// <remarks>
/// Workers: <c>worker_processes</c> for nginx and <c>nbthread</c> for HAProxy are both set to <c>--peer-workers</c>
/// (default: the processor count, so 2 here). The relay's thread pool spans every core, and so does a production
/// nginx (<c>auto</c>) or HAProxy (its default <c>nbthread</c> is the CPU count); a proxy held to one core would lose
/// throughput on this machine for a reason the relay does not share.
/// </remarks>
internal sealed class PeerProcess : IProxyProcess
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(15);
    private static readonly List<Process> s_children = [];

    private readonly Process _process;
    private readonly string _directory;
    private readonly Queue<string> _output = new();
    private readonly Lock _lock = new();
    private int[] _workers = [];
    private int _outputLines;

    static PeerProcess()
    {
        // Whatever way this tool ends, no peer outlives it: killed by the PID this tool started, nothing broader.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            lock (s_children)
            {
                foreach (var child in s_children)
                {
                    try
                    {
                        if (!child.HasExited)
                        {
                            child.Kill(entireProcessTree: true);
                        }
                    }
                    catch (Exception exception) when (exception is InvalidOperationException or System.ComponentModel.Win32Exception)
                    {
                        // Already gone.
                    }
                }
            }
        };
    }

    private PeerProcess(
        PeerSetup setup, string binary, string version, int workers, int attaches, Process process, string directory, int port, string config, LoadCertificates? certificates)
    {
        Certificates = certificates;
        Attaches = attaches;
        Setup = setup;
        BinaryPath = binary;
        Version = version;
        Workers = workers;
        _process = process;
        _directory = directory;
        Port = port;
        Config = config;
    }

    public PeerSetup Setup { get; }

    public string Name => Setup.Name;

    public string BinaryPath { get; }

    public string Version { get; }

    /// <summary>nginx <c>worker_processes</c> or HAProxy <c>nbthread</c>.</summary>
    public int Workers { get; }

    /// <summary>The attaches it was configured to hold at once.</summary>
    public int Attaches { get; }

    public int Port { get; }

    public string Config { get; }

    /// <summary>The certificate nginx-tls serves; null for a plain peer.</summary>
    public LoadCertificates? Certificates { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Lines it printed to stdout or stderr, plus nginx's error log; none in a clean run.</summary>
    public int OutputLines
    {
        get
        {
            lock (_lock)
            {
                return _outputLines + ErrorLogLines().Length;
            }
        }
    }

    /// <summary>Starts the peer, configured to hold <paramref name="attaches"/> attaches at once (the largest idle scenario's).</summary>
    public static async Task<PeerProcess> StartAsync(
        PeerSetup setup, string binary, int workers, int attaches, FakeRuntime runtime, LoadCertificates? certificates, CancellationToken cancellationToken)
    {
        if (setup.Tls && certificates is null)
        {
            throw new InvalidOperationException($"{setup.Name} needs the run's certificate.");
        }

        Exception? last = null;
        var version = ReadVersion(binary, setup);
        var maxConnections = MaxConnections(attaches);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var directory = Directory.CreateTempSubdirectory($"bctrl-load-{setup.Name}-").FullName;
            var port = FreePort();
            var (config, start) = setup.IsNginx
                ? Nginx(binary, directory, port, runtime.Port, workers, maxConnections, setup.Tls ? certificates : null)
                : HaProxy(binary, directory, port, runtime.Port, workers, maxConnections);
            var process = new Process { StartInfo = start };
            PeerProcess? peer = null;
            process.OutputDataReceived += (_, e) => peer?.Add(e.Data);
            process.ErrorDataReceived += (_, e) => peer?.Add(e.Data);
            if (!process.Start())
            {
                throw new InvalidOperationException($"{binary} did not start.");
            }

            peer = new PeerProcess(setup, binary, version, workers, attaches, process, directory, port, config, setup.Tls ? certificates : null);
            lock (s_children)
            {
                s_children.Add(process);
            }

            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await peer.WaitReadyAsync(cancellationToken).ConfigureAwait(false);
                return peer;
            }
            catch (Exception exception) when (exception is InvalidOperationException or TimeoutException)
            {
                last = exception;
                await peer.DisposeAsync().ConfigureAwait(false);
            }
        }

        throw new InvalidOperationException($"{setup.Name} did not start: {last?.Message}", last);
    }

    /// <summary>The runtime's browser socket, through this proxy.</summary>
    public Uri Endpoint(FakeRuntime runtime) => new($"{(Setup.Tls ? "wss" : "ws")}://127.0.0.1:{Port}{runtime.BrowserSocketUrl.AbsolutePath}");

    public double? CpuSeconds()
    {
        var own = ProcStat.CpuSeconds(_process.Id);
        if (own is null)
        {
            return null;
        }

        return own + CurrentWorkers().Sum(w => ProcStat.CpuSeconds(w) ?? 0);
    }

    public long? RssBytes()
    {
        if (_process.HasExited)
        {
            return null;
        }

        // nginx's connections live in its workers; HAProxy runs as one process (-db, threads).
        return Setup.IsNginx
            ? CurrentWorkers().Sum(w => ProcStat.RssBytes(w) ?? 0)
            : ProcStat.RssBytes(_process.Id);
    }

    public IReadOnlyList<string> Tail()
    {
        lock (_lock)
        {
            return [.. _output, .. ErrorLogLines().TakeLast(20)];
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM: both stop at once (nginx's fast shutdown, HAProxy's hard stop); SIGKILL if they hang.
            ProcStat.Terminate(_process.Id);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Add($"load tool: {Name} did not stop within 10 s of SIGTERM; killed");
                _process.Kill(entireProcessTree: true);
            }
        }

        lock (s_children)
        {
            s_children.Remove(_process);
        }

        _process.Dispose();
    }

    /// <summary>Removes the configuration directory; after <see cref="DisposeAsync"/> and after the report read the log.</summary>
    public void DeleteDirectory()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Left in /tmp.
        }
    }

    private static (string Config, ProcessStartInfo Start) Nginx(
        string binary, string directory, int port, int runtimePort, int workers, int maxConnections, LoadCertificates? tls)
    {
        var temp = Path.Combine(directory, "temp");
        Directory.CreateDirectory(temp);

        // nginx-tls: TLS as a production server would have it (Mozilla's "intermediate" profile: TLS 1.2 and 1.3, its
        // 1.2 ciphers, a shared session cache of 10 MB for a day, no tickets); the location is the plain target's.
        var listen = tls is null
            ? string.Create(CultureInfo.InvariantCulture, $"listen 127.0.0.1:{port};")
            : string.Create(CultureInfo.InvariantCulture, $"""
                listen 127.0.0.1:{port} ssl;
                        ssl_certificate {tls.CertificatePath};
                        ssl_certificate_key {tls.KeyPath};
                        ssl_protocols TLSv1.2 TLSv1.3;
                        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
                        ssl_prefer_server_ciphers off;
                        ssl_session_cache shared:SSL:10m;
                        ssl_session_timeout 1d;
                        ssl_session_tickets off;
                """);

        // worker_connections counts both sides of a proxied connection; the file limit must cover them and the listener.
        var config = string.Create(CultureInfo.InvariantCulture, $$"""
            worker_processes {{workers}};
            worker_rlimit_nofile {{2 * maxConnections + 64}};
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log error;

            events {
                worker_connections {{2 * maxConnections}};
            }

            http {
                access_log off;
                client_body_temp_path {{temp}}/body;
                proxy_temp_path {{temp}}/proxy;
                fastcgi_temp_path {{temp}}/fastcgi;
                uwsgi_temp_path {{temp}}/uwsgi;
                scgi_temp_path {{temp}}/scgi;

                map $http_upgrade $connection_upgrade {
                    default upgrade;
                    '' close;
                }

                server {
                    {{listen}}
                    location / {
                        proxy_pass http://127.0.0.1:{{runtimePort}};
                        proxy_http_version 1.1;
                        proxy_set_header Upgrade $http_upgrade;
                        proxy_set_header Connection $connection_upgrade;
                        proxy_set_header Host $host;
                        proxy_buffering off;
                        proxy_request_buffering off;
                        tcp_nodelay on;
                        proxy_connect_timeout 10s;
                        proxy_read_timeout 1h;
                        proxy_send_timeout 1h;
                    }
                }
            }

            """);
        var path = Path.Combine(directory, "nginx.conf");
        File.WriteAllText(path, config);
        var start = NewStart(binary, directory);
        foreach (var argument in (string[])["-p", directory + "/", "-c", path, "-e", Path.Combine(directory, "error.log"), "-g", "daemon off;"])
        {
            start.ArgumentList.Add(argument);
        }

        return (config, start);
    }

    private static (string Config, ProcessStartInfo Start) HaProxy(string binary, string directory, int port, int runtimePort, int workers, int maxConnections)
    {
        // No log lines anywhere: logging off. After the upgrade, "timeout tunnel" governs the WebSocket.
        var config = string.Create(CultureInfo.InvariantCulture, $"""
            global
                nbthread {workers}
                maxconn {maxConnections}

            defaults
                mode http
                timeout connect 10s
                timeout client 1h
                timeout server 1h
                timeout tunnel 1h
                timeout http-request 10s

            frontend load
                bind 127.0.0.1:{port}
                default_backend runtime

            backend runtime
                server fake 127.0.0.1:{runtimePort}

            """);
        var path = Path.Combine(directory, "haproxy.cfg");
        File.WriteAllText(path, config);
        var start = NewStart(binary, directory);
        foreach (var argument in (string[])["-f", path, "-db"])
        {
            start.ArgumentList.Add(argument);
        }

        return (config, start);
    }

    private static ProcessStartInfo NewStart(string binary, string directory) => new(binary)
    {
        UseShellExecute = false,
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        RedirectStandardInput = true,
        WorkingDirectory = directory,
    };

    /// <summary>
    /// Connections each proxy must hold: 9,900 as before issue 9 (what a limit of 20,000 gave), or the idle scenario's
    /// attaches and 1,000 more where that is more (idle-20k), within this process's open-file limit, which the peer inherits.
    /// </summary>
    private static int MaxConnections(int attaches)
    {
        var limit = ProcStat.OpenFileLimits()?.Soft ?? 1024;
        var byFiles = (Math.Min(limit, 1_000_000) - 200) / 2;
        return (int)Math.Clamp(Math.Min(byFiles, Math.Max(9_900, attaches + 1_000)), 256, 100_000);
    }

    private static string ReadVersion(string binary, PeerSetup setup)
    {
        try
        {
            var start = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("-v");
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            process.WaitForExit(5000);
            var text = (output.Result + error.Result).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return text.FirstOrDefault() ?? setup.Name;
        }
        catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return setup.Name;
        }
    }

    private int[] CurrentWorkers()
    {
        if (!Setup.IsNginx)
        {
            return [];
        }

        var workers = Volatile.Read(ref _workers);
        if (workers.Length != Workers || workers.Any(w => ProcStat.CpuSeconds(w) is null))
        {
            workers = ProcStat.ChildProcessIds(_process.Id);
            Volatile.Write(ref _workers, workers);
        }

        return workers;
    }

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < s_startTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(
                    $"it exited with {_process.ExitCode}:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", Tail())}");
            }

            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await probe.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port), cancellationToken).ConfigureAwait(false);
                if (!Setup.IsNginx || CurrentWorkers().Length == Workers)
                {
                    return;
                }
            }
            catch (SocketException)
            {
                // Not listening yet.
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"it did not listen within {s_startTimeout.TotalSeconds:0} s.");
    }

    private string[] ErrorLogLines()
    {
        try
        {
            var path = Path.Combine(_directory, "error.log");
            return File.Exists(path) ? File.ReadAllLines(path) : [];
        }
        catch (IOException)
        {
            return [];
        }
    }

    private void Add(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return;
        }

        lock (_lock)
        {
            _outputLines++;
            _output.Enqueue(line);
            while (_output.Count > 20)
            {
                _output.Dequeue();
            }
        }
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
