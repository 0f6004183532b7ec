using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;

namespace Bctrl.Relay.Hosting;

/// <summary>
/// The relay as a process (docs/operations.md): <c>--help</c> and <c>--version</c> answer without starting anything;
/// a relay that cannot start (a bad or unknown setting, a missing key, a port in use) writes one line on stderr naming
/// the key or the cause, never a stack trace nor a secret, and exits with 1; a relay that ran and was stopped exits
/// with 0.
/// </summary>
internal static partial class RelayProcess
{
    public const string Name = "bctrl-relay";

    private const string Usage = """
        Bctrl.Relay: the edge node of a browser fleet. It hands out short-lived signed URLs (leases) into running
        Chromium runtimes and splices Chrome DevTools Protocol WebSockets through them.

        Usage: dotnet Bctrl.Relay.dll [--help] [--version] [--urls URL[;URL]] [--environment NAME] [--Key=Value]...

        Settings are ASP.NET configuration: appsettings.json, environment variables (Relay__Limits__MaxAttaches=100)
        or the command line (--Relay:Limits:MaxAttaches=100). An unknown key under Relay: is an error. The main ones:
          --urls, ASPNETCORE_URLS        where the relay listens (default http://127.0.0.1:8080); without them,
          ASPNETCORE_HTTP_PORTS          http://*:PORT for each port listed
          --environment, ASPNETCORE_ENVIRONMENT
                                         Production (the default) needs the two keys below
          Relay:ControlApiKey            bearer key of the control API (at least 16 characters)
          Relay:SigningKeys:0:Id, Relay:SigningKeys:0:Secret
                                         the lease signing key ring (secret: base64 of at least 32 bytes)
          Relay:ManagementUrls           separate listeners for the control API, /metrics and health
          Relay:PublicBaseUrl            base of the ws:// or wss:// URLs handed out
          Relay:Redis                    share state with a fleet through Redis (host:6379,password=...)
          Relay:Limits:MaxAttaches       live attaches per node (0: no limit)
          Logging:Console:FormatterName  simple (the default) or json

        Endpoints: /v1/... (control API), /cdp/{token} (attach), /metrics, /healthz, /readyz.
        Documentation: README.md ("Configuration") and docs/operations.md in the relay's repository.

        Exit codes: 0 after a stop (SIGTERM, Ctrl+C) or for --help and --version; 1 when the relay cannot start.
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Any(a => a is "--help" or "-h" or "-?"))
        {
            Console.Out.WriteLine(Usage);
            return 0;
        }

        if (args.Contains("--version"))
        {
            Console.Out.WriteLine(RelayVersion.Informational);
            return 0;
        }

        IConfiguration? configuration = null;
        try
        {
            await using var app = RelayApp.Build(args, builder => configuration = builder.Configuration);
            await app.RunAsync();
            return 0;
        }
        catch (Exception exception)
        {
            await Console.Error.WriteLineAsync($"{Name}: {Describe(exception, configuration)}");
            return 1;
        }
    }

    /// <summary>One line for a failure to start: the settings error as the relay words it, or the listener and its cause.</summary>
    internal static string Describe(Exception exception, IConfiguration? configuration)
    {
        while (exception is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            exception = aggregate.InnerExceptions[0];
        }

        string line;
        if (exception is IOException && BindFailure().Match(exception.Message) is { Success: true } bind)
        {
            // Kestrel: "Failed to bind to address http://127.0.0.1:8080: address already in use."
            line = $"cannot listen on {bind.Groups["url"].Value}: {bind.Groups["cause"].Value}";
        }
        else if (exception is AddressInUseException)
        {
            line = "cannot listen: address already in use";
        }
        else if (exception is InvalidOperationException or InvalidDataException)
        {
            line = exception.Message;
        }
        else
        {
            line = $"cannot start: {exception.Message} ({exception.GetType().Name})";
        }

        return Redact(string.Join(' ', line.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)), configuration);
    }

    /// <summary>
    /// The relay's own messages never quote a secret; this also keeps one out of a message the framework wrote (a
    /// control key, a signing secret, the Redis configuration string, which may hold a password, or a certificate's password).
    /// </summary>
    private static string Redact(string line, IConfiguration? configuration)
    {
        if (configuration is null)
        {
            return line;
        }

        var relay = configuration.GetSection("Relay");
        var secrets = relay.GetSection("SigningKeys").GetChildren().Select(key => key["Secret"])
            .Append(relay["ControlApiKey"])
            .Append(relay["Redis"])
            .Append(relay["Tls:CertificatePassword"]);
        foreach (var secret in secrets)
        {
            if (secret is { Length: >= 4 })
            {
                line = line.Replace(secret, "***", StringComparison.Ordinal);
            }
        }

        return line;
    }

    [GeneratedRegex(@"^Failed to bind to address (?<url>\S+?): (?<cause>.+?)\.?$", RegexOptions.Singleline)]
    private static partial Regex BindFailure();
}
