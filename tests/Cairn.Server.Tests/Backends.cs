namespace Cairn.Server.Tests;

/// <summary>The stores every integration test runs against: SQLite always, PostgreSQL when one is configured.</summary>
public static class Backends
{
    public static TheoryData<string> All => new() { "sqlite", "postgres" };

    /// <summary>Starts a server on <paramref name="backend"/>, or returns null when PostgreSQL is not available locally.</summary>
    public static async Task<CairnProcess?> StartAsync(string backend, params string[] extraArgs)
    {
        if (backend == "postgres" && !TestPostgres.Available)
        {
            return null;
        }

        return await CairnProcess.StartAsync(backend, extraArgs);
    }
}
