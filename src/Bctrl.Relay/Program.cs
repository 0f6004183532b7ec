using Bctrl.Relay.Hosting;

await using var app = RelayApp.Build(args);
await app.RunAsync();
