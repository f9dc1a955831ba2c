using Npgsql;

namespace Cairn.Server.Tests;

/// <summary>
/// The PostgreSQL server the tests use, from CAIRN_TEST_POSTGRES (an Npgsql connection string;
/// .ci/run starts one). Each server under test gets a fresh database of its own.
/// </summary>
public static class TestPostgres
{
    public static string? ConnectionString => Environment.GetEnvironmentVariable("CAIRN_TEST_POSTGRES") is { Length: > 0 } cs ? cs : null;

    /// <summary>True when PostgreSQL tests can run. In CI (env CI set) a missing server is a failure, not a skip.</summary>
    public static bool Available
    {
        get
        {
            if (ConnectionString is not null)
            {
                return true;
            }

            if (Environment.GetEnvironmentVariable("CI") is { Length: > 0 })
            {
                throw new InvalidOperationException("CI is set but CAIRN_TEST_POSTGRES is not: .ci/run must start PostgreSQL for the tests.");
            }

            return false;
        }
    }

    public static async Task<string> CreateDatabaseAsync()
    {
        var name = "cairn_test_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await cmd.ExecuteNonQueryAsync();
        return name;
    }

    public static async Task DropDatabaseAsync(string name)
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>The store URI for a database on the test server, in the postgresql:// form users pass to cairn server.</summary>
    public static string UriFor(string database)
    {
        var b = new NpgsqlConnectionStringBuilder(ConnectionString);
        var auth = b.Username is { Length: > 0 } user ? Uri.EscapeDataString(user) + (b.Password is { Length: > 0 } pw ? ":" + Uri.EscapeDataString(pw) : "") + "@" : "";
        return $"postgresql://{auth}{b.Host}:{b.Port}/{database}";
    }
}
