namespace Bctrl.Relay.FunctionalTests.Api;

/// <summary>The repository the tests were built from, for checking its documents against the code.</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Bctrl.Relay.sln")) && File.Exists(Path.Combine(directory.FullName, "README.md")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No repository (Bctrl.Relay.sln) above {AppContext.BaseDirectory}.");
    }
}
