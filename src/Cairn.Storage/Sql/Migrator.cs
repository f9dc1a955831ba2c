using System.Data.Common;

namespace Cairn.Storage.Sql;

/// <summary>Brings a database's schema up to the newest version, one transaction per migration.</summary>
public static class Migrator
{
    public static int LatestVersion => Schema.Migrations[^1].Version;

    /// <summary>Applies the missing migrations and returns how many ran (0 when the schema is current).</summary>
    public static async Task<int> UpgradeAsync(SqlDatabase database, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct).ConfigureAwait(false);
        if (database.Dialect == SqlDialect.Sqlite)
        {
            // WAL lets readers run beside the writer; the setting persists in the file.
            await ExecAsync(connection, null, "PRAGMA journal_mode=WAL;", ct).ConfigureAwait(false);
        }

        await ExecAsync(connection, null, "CREATE TABLE IF NOT EXISTS cairn_schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL);", ct).ConfigureAwait(false);
        var current = await CurrentVersionAsync(connection, ct).ConfigureAwait(false);
        var applied = 0;
        foreach (var (version, description, sql) in Schema.Migrations)
        {
            if (version <= current)
            {
                continue;
            }

            await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await ExecAsync(connection, tx, sql(database.Dialect), ct).ConfigureAwait(false);
            await using (var record = connection.CreateCommand())
            {
                record.Transaction = tx;
                record.CommandText = "INSERT INTO cairn_schema_version (version, description, applied_at) VALUES (@v, @d, @t)";
                Add(record, "@v", version);
                Add(record, "@d", description);
                Add(record, "@t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                await record.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            await tx.CommitAsync(ct).ConfigureAwait(false);
            applied++;
        }

        return applied;
    }

    public static async Task<int> CurrentVersionAsync(DbConnection connection, CancellationToken ct)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT COALESCE(MAX(version), 0) FROM cairn_schema_version";
        return Convert.ToInt32(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task ExecAsync(DbConnection connection, DbTransaction? tx, string sql, CancellationToken ct)
    {
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static void Add(DbCommand cmd, string name, object value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        cmd.Parameters.Add(p);
    }
}
