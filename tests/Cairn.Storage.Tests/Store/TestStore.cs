using Cairn.Storage.Sql;
using Npgsql;

namespace Cairn.Storage.Tests.Store;

/// <summary>A store on a fresh SQLite file or a fresh PostgreSQL database (CAIRN_TEST_POSTGRES), removed on dispose.</summary>
internal sealed class TestStore : IAsyncDisposable
{
    private readonly string? _directory;
    private readonly string? _database;

    private TestStore(SqlTrackingStore store, string? directory, string? database)
    {
        Store = store;
        _directory = directory;
        _database = database;
    }

    public SqlTrackingStore Store { get; }

    public static async Task<TestStore?> OpenAsync(string backend)
    {
        if (backend == "sqlite")
        {
            var dir = Directory.CreateTempSubdirectory("cairn-columns-").FullName;
            return new TestStore(await SqlTrackingStore.OpenAsync("sqlite:///" + Path.Combine(dir, "t.db"), "mlflow-artifacts:/"), dir, null);
        }

        if (Environment.GetEnvironmentVariable(Search.SearchDatabase.PostgresVariable) is not { Length: > 0 } connectionString)
        {
            return null;
        }

        var name = "cairn_columns_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await cmd.ExecuteNonQueryAsync();
        }

        var b = new NpgsqlConnectionStringBuilder(connectionString);
        var auth = b.Username is { Length: > 0 } user ? Uri.EscapeDataString(user) + (b.Password is { Length: > 0 } pw ? ":" + Uri.EscapeDataString(pw) : "") + "@" : "";
        return new TestStore(await SqlTrackingStore.OpenAsync($"postgresql://{auth}{b.Host}:{b.Port}/{name}", "mlflow-artifacts:/"), null, name);
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }

        if (_database is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(Environment.GetEnvironmentVariable(Search.SearchDatabase.PostgresVariable));
            await connection.OpenAsync();
            await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)", connection);
            await cmd.ExecuteNonQueryAsync();
        }
    }
}
