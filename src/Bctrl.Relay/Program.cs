using Bctrl.Relay.Hosting;

return await RelayProcess.RunAsync(args);
