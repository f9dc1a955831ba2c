using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Cairn.Storage.Sql;

/// <summary>
/// Opens connections to one tracking database. Readers get pooled connections of their own;
/// the single writer (see <see cref="WriteQueue"/>) keeps one connection for its lifetime.
/// </summary>
public sealed class SqlDatabase : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly NpgsqlDataSource? _postgres;

    private SqlDatabase(SqlDialect dialect, string connectionString, NpgsqlDataSource? postgres)
    {
        Dialect = dialect;
        _connectionString = connectionString;
        _postgres = postgres;
    }

    public SqlDialect Dialect { get; }

    /// <summary>
    /// Accepts MLflow's store URIs: <c>sqlite:///relative.db</c>, <c>sqlite:////absolute.db</c>,
    /// <c>postgresql://user:password@host:port/database</c> (also <c>postgres://</c> and
    /// <c>postgresql+psycopg2://</c>), or a bare Npgsql connection string.
    /// </summary>
    public static SqlDatabase Open(string uri)
    {
        if (uri.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = uri["sqlite:".Length..];
            if (path.StartsWith("///", StringComparison.Ordinal))
            {
                path = path[3..];
            }
            else if (path.StartsWith("//", StringComparison.Ordinal))
            {
                path = path[2..];
            }

            if (path.Length == 0 || path == ":memory:")
            {
                throw new ArgumentException("An in-memory SQLite database cannot be shared by the server's connections; give a file path.", nameof(uri));
            }

            path = Path.GetFullPath(path);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var builder = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 };
            return new SqlDatabase(SqlDialect.Sqlite, builder.ToString(), null);
        }

        // Statements repeated on the hot paths are prepared server-side after two uses.
        var connectionString = new NpgsqlConnectionStringBuilder(PostgresConnectionString(uri)) { MaxAutoPrepare = 64, AutoPrepareMinUsages = 2 }.ToString();
        var dataSource = new NpgsqlDataSourceBuilder(connectionString).Build();
        return new SqlDatabase(SqlDialect.Postgres, connectionString, dataSource);
    }

    internal static string PostgresConnectionString(string uri)
    {
        var schemeEnd = uri.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0)
        {
            return uri;
        }

        var scheme = uri[..schemeEnd].ToLowerInvariant();
        if (!(scheme is "postgresql" or "postgres" || scheme.StartsWith("postgresql+", StringComparison.Ordinal)))
        {
            throw new ArgumentException($"Unsupported backend store URI scheme '{scheme}'. Use sqlite:///path.db or postgresql://user:password@host:port/database.", nameof(uri));
        }

        var u = new Uri("postgresql" + uri[schemeEnd..]);
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = u.Host,
            Port = u.Port > 0 ? u.Port : 5432,
            Database = Uri.UnescapeDataString(u.AbsolutePath.TrimStart('/')) is { Length: > 0 } db ? db : "postgres",
        };
        if (u.UserInfo.Length > 0)
        {
            var parts = u.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1)
            {
                b.Password = Uri.UnescapeDataString(parts[1]);
            }
        }

        foreach (var pair in u.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            if (kv.Length == 2 && kv[0] != "sslmode")
            {
                b[Uri.UnescapeDataString(kv[0])] = Uri.UnescapeDataString(kv[1]);
            }
        }

        return b.ToString();
    }

    public async Task<DbConnection> OpenAsync(CancellationToken ct = default)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(ct).ConfigureAwait(false);
        }

        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);

        // Per-connection settings: wait rather than fail on a busy file, and make LIKE case-sensitive as MLflow's is.
        using var pragma = connection.CreateCommand();
        // Checkpoints run in the background (WalCheckpointer), never in the committing writer.
        pragma.CommandText = "PRAGMA busy_timeout=30000; PRAGMA case_sensitive_like=ON; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;";
        await pragma.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        return connection;
    }

    public ValueTask DisposeAsync()
    {
        if (Dialect == SqlDialect.Sqlite)
        {
            SqliteConnection.ClearAllPools();
        }

        return _postgres?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
