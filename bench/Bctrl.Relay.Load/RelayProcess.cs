using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;

namespace Bctrl.Relay.Load;

/// <summary>
/// One relay as a child process (<c>dotnet Bctrl.Relay.dll</c>) on 127.0.0.1, with a known control key and signing
/// key, no dev runtime, one client transport, and recording on or off. The fake runtime is registered as runtime <c>fake</c> by its
/// <c>http://</c> address, so every attach resolves the browser socket through <c>/json/version</c> as with Chromium.
/// relay-tls listens on <c>https://</c> instead, with the run's certificate (docs/tls.md): its control API, health and
/// metrics are reached over TLS too, and its leases are <c>wss://</c>.
/// </summary>
internal sealed class RelayProcess : IProxyProcess
{
    public const string RuntimeId = "fake";

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);
    private static readonly List<Process> s_children = [];

    private readonly Process _process;
    private readonly HttpClient _http;

    static RelayProcess()
    {
        // Whatever way this tool ends, no relay outlives it.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            lock (s_children)
            {
                foreach (var child in s_children)
                {
                    KillQuietly(child);
                }
            }
        };
    }

    private RelayProcess(RelaySetup setup, Process process, Uri baseUrl, HttpClient http, RelayOutput output, LoadCertificates? certificates)
    {
        Certificates = certificates;
        Setup = setup;
        _process = process;
        BaseUrl = baseUrl;
        _http = http;
        Output = output;
    }

    public RelaySetup Setup { get; }

    public string Name => Setup.Name;

    /// <summary><c>Pipes</c> or <c>Stream</c>: <c>Relay:Splice:ClientTransport</c>.</summary>
    public string Transport => Setup.Transport;

    public Uri BaseUrl { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public RelayOutput Output { get; }

    /// <summary>The certificate relay-tls serves; null for a plain relay.</summary>
    public LoadCertificates? Certificates { get; }

    public static async Task<RelayProcess> StartAsync(
        string relayDll, RelaySetup setup, FakeRuntime runtime, LoadCertificates? certificates, CancellationToken cancellationToken)
    {
        if (setup.Tls && certificates is null)
        {
            throw new InvalidOperationException($"{setup.Name} needs the run's certificate.");
        }

        var tls = setup.Tls ? certificates : null;
        // A port taken by someone between the probe and the relay's bind shows as an early exit: try another.
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var port = FreePort();
            var output = new RelayOutput();
            var controlKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
            var baseUrl = new Uri($"{(tls is null ? "http" : "https")}://127.0.0.1:{port}/");
            var process = Launch(relayDll, setup, baseUrl, controlKey, output, tls);
            var handler = new SocketsHttpHandler { UseProxy = false };
            if (tls is not null)
            {
                handler.SslOptions.RemoteCertificateValidationCallback = tls.Validate;
            }

            var http = new HttpClient(handler) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(15) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", controlKey);
            var relay = new RelayProcess(setup, process, baseUrl, http, output, tls);
            try
            {
                await relay.WaitReadyAsync(cancellationToken).ConfigureAwait(false);
                await relay.PutRuntimeAsync(runtime.HttpUrl, cancellationToken).ConfigureAwait(false);
                return relay;
            }
            catch (Exception exception) when (exception is InvalidOperationException or HttpRequestException or TimeoutException)
            {
                last = exception;
                await relay.DisposeAsync().ConfigureAwait(false);
            }
        }

        throw new InvalidOperationException($"The relay ({setup.Description}) did not start: {last?.Message}", last);
    }

    /// <summary>A fresh lease on the fake runtime; returns its endpoint URL (<c>ws://127.0.0.1:PORT/cdp/&lt;token&gt;</c>, <c>wss://</c> for relay-tls).</summary>
    public async Task<Uri> CreateLeaseAsync(CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync($"v1/runtimes/{RuntimeId}/connections", new LeaseRequest("cdp", 600, Setup.Policy ? new LeasePolicy("noBrowserControl") : null, Setup.Artifacts ? new LeaseRecord(true) : null), cancellationToken)
            .ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return new Uri(json.RootElement.GetProperty("endpoint").GetProperty("url").GetString()!);
    }

    /// <summary>CPU seconds the relay has used so far (<c>/proc/&lt;pid&gt;/stat</c>).</summary>
    public double? CpuSeconds() => ProcStat.CpuSeconds(_process.Id);

    /// <summary>The relay's resident memory (<c>VmRSS</c>).</summary>
    public long? RssBytes() => ProcStat.RssBytes(_process.Id);

    public IReadOnlyList<string> Tail() => Output.Read().Tail;

    /// <summary>
    /// What the relay's sampler did over its life, from its <c>/metrics</c>; null when the scrape fails. Best effort:
    /// the numbers show that the sampler really matched results to commands (recording on) or did nothing (off).
    /// </summary>
    public async Task<SamplerCounts?> ReadSamplerCountsAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            var text = await _http.GetStringAsync("metrics", timeout.Token).ConfigureAwait(false);
            return SamplerCounts.Parse(text);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            // SIGTERM first, so the relay drains as it would in a rollout; then SIGKILL if it hangs.
            ProcStat.Terminate(_process.Id);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Output.Add("fail: load tool: the relay did not stop within 10 s of SIGTERM; killed");
                Output.Add("      (killed)");
                KillQuietly(_process);
            }
        }

        lock (s_children)
        {
            s_children.Remove(_process);
        }

        _process.Dispose();
    }

    private static Process Launch(string relayDll, RelaySetup setup, Uri baseUrl, string controlKey, RelayOutput output, LoadCertificates? tls)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = Path.GetDirectoryName(relayDll)!,
        };
        foreach (var argument in (string[])[relayDll, "--urls", baseUrl.GetLeftPart(UriPartial.Authority), "--environment", "Benchmark"])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Relay__ControlApiKey"] = controlKey;
        start.Environment["Relay__SigningKeys__0__Id"] = "load";
        start.Environment["Relay__SigningKeys__0__Secret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        start.Environment["Relay__DevRuntime__Enabled"] = "false";
        start.Environment["Relay__Splice__ClientTransport"] = setup.Transport;

        // Set both ways, so that a change of the relay's default cannot silently change what a target measures.
        start.Environment["Relay__Transport"] = setup.Listener;
        start.Environment["Relay__Observation__Enabled"] = setup.Recording ? "true" : "false";
        start.Environment["Relay__Splice__InlineIo"] = setup.InlineIo ? "true" : "false";
        if (tls is not null)
        {
            start.Environment["Relay__Tls__CertificatePath"] = tls.CertificatePath;
            start.Environment["Relay__Tls__KeyPath"] = tls.KeyPath;
        }

        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        start.Environment.Remove("DOTNET_ENVIRONMENT");
        foreach (var (name, value) in setup.Environment)
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => output.Add(e.Data);
        process.ErrorDataReceived += (_, e) => output.Add(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException("dotnet did not start.");
        }

        lock (s_children)
        {
            s_children.Add(process);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < s_startTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(
                    $"it exited with {_process.ExitCode}:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", Output.Read().Tail)}");
            }

            try
            {
                using var response = await _http.GetAsync("healthz", cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"it was not healthy within {s_startTimeout.TotalSeconds:0} s.");
    }

    private async Task PutRuntimeAsync(Uri cdpUrl, CancellationToken cancellationToken)
    {
        using var response = await _http.PutAsJsonAsync($"v1/runtimes/{RuntimeId}", new RuntimeRequest(cdpUrl.ToString()), cancellationToken)
            .ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static void KillQuietly(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    private sealed record RuntimeRequest(string CdpUrl);

    private sealed record LeaseRequest(
        string Protocol,
        int TtlSeconds,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] LeasePolicy? Policy = null,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] LeaseRecord? Record = null);

    private sealed record LeasePolicy(string Preset);

    private sealed record LeaseRecord(bool Artifacts);
}
