using Bctrl.Relay.Load;

var options = LoadOptions.Parse(args, Console.Error);
if (options is null)
{
    return 2;
}

return await LoadRun.RunAsync(options);
