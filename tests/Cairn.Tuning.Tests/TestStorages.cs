using Cairn.Tuning.Storage;

namespace Cairn.Tuning.Tests;

/// <summary>Creates each kind of storage for the shared storage tests; PostgreSQL comes from CAIRN_TEST_POSTGRES.</summary>
internal static class TestStorages
{
    public static TheoryData<string> Kinds => new() { "memory", "sqlite", "postgres" };

    /// <summary>The PostgreSQL connection string, or null when it is not configured on a developer machine.
    /// On CI (env CI set) a missing connection string is a failure, so PostgreSQL coverage cannot silently vanish.</summary>
    public static string? PostgresConnectionString()
    {
        var cs = Environment.GetEnvironmentVariable("CAIRN_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(cs)) return cs;
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("CI")))
            Assert.Fail("CAIRN_TEST_POSTGRES is not set but CI is: set it to an Npgsql connection string, e.g. Host=127.0.0.1;Port=5544;Username=postgres;Database=postgres.");
        return null;
    }

    public static string NewSqlitePath() =>
        Path.Combine(Path.GetTempPath(), "cairn-tuning-tests", Guid.NewGuid().ToString("N") + ".db");

    /// <summary>Null means: PostgreSQL is not configured locally, skip.</summary>
    public static string? Uri(string kind) => kind switch
    {
        "memory" => "memory:",
        "sqlite" => "sqlite:///" + NewSqlitePath(),
        "postgres" => PostgresConnectionString(),
        _ => throw new ArgumentException(kind),
    };

    public static string UniqueName(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..10];
}
