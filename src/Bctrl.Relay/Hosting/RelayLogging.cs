namespace Bctrl.Relay.Hosting;

/// <summary>The relay's own rules for the framework's loggers: request paths carry lease tokens.</summary>
internal static class RelayLogging
{
    public static void Configure(ILoggingBuilder logging)
    {
        // Request paths carry lease tokens: the framework's per-request logs must stay off whatever the configuration says.
        // Hosting's are off entirely (it logs nothing above Information): while its logger is enabled at any level it
        // creates an Activity and two log scopes per request, which every live attach then holds (bench/README.md).
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        logging.AddFilter("Microsoft.AspNetCore.Routing", LogLevel.Warning);
        logging.AddFilter("Microsoft.AspNetCore.Http.Result", LogLevel.Warning);
        logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Warning);
    }
}
