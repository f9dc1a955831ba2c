using System.Data.Common;
using Cairn.Storage.Sql;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Cairn.Storage.Tests.Search;

/// <summary>
/// A fresh database with the tracking schema for one test: in-memory SQLite, or a throw-away
/// schema in the PostgreSQL named by CAIRN_TEST_POSTGRES.
/// </summary>
public sealed class SearchDatabase : IDisposable
{
    public const string PostgresVariable = "CAIRN_TEST_POSTGRES";

    private readonly string? _schema;

    private SearchDatabase(DbConnection connection, SqlDialect dialect, string? schema)
    {
        Connection = connection;
        Dialect = dialect;
        _schema = schema;
    }

    public DbConnection Connection { get; }

    public SqlDialect Dialect { get; }

    public static SearchDatabase Sqlite()
    {
        var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        var db = new SearchDatabase(connection, SqlDialect.Sqlite, null);

        // The store opens every SQLite connection this way; LIKE is case-sensitive as in MLflow.
        db.Execute("PRAGMA case_sensitive_like=ON");
        db.ApplySchema();
        return db;
    }

    /// <summary>Null when CAIRN_TEST_POSTGRES is unset; those tests then have nothing to check.</summary>
    public static SearchDatabase? Postgres()
    {
        var connectionString = Environment.GetEnvironmentVariable(PostgresVariable);
        if (string.IsNullOrEmpty(connectionString))
        {
            return null;
        }

        var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        var schema = "search_" + Guid.NewGuid().ToString("N");
        var db = new SearchDatabase(connection, SqlDialect.Postgres, schema);
        db.Execute($"CREATE SCHEMA {schema}; SET search_path TO {schema}");
        db.ApplySchema();
        return db;
    }

    private void ApplySchema()
    {
        foreach (var (_, _, sql) in Schema.Migrations)
        {
            Execute(sql(Dialect));
        }
    }

    public void Execute(string sql, params object?[] args)
    {
        using var cmd = Connection.CreateCommand();
        cmd.CommandText = sql;
        for (var i = 0; i < args.Length; i++)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = "@a" + i;
            p.Value = args[i] ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }

        cmd.ExecuteNonQuery();
    }

    public List<string> Query(SqlQuery query)
    {
        using var cmd = Command(query);
        using var reader = cmd.ExecuteReader();
        var ids = new List<string>();
        while (reader.Read())
        {
            ids.Add(Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)!);
        }

        return ids;
    }

    public List<string> Lines(string sqlPrefix, SqlQuery query)
    {
        using var cmd = Command(query with { Sql = sqlPrefix + query.Sql });
        using var reader = cmd.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read())
        {
            lines.Add(reader.GetValue(reader.FieldCount - 1)?.ToString() ?? "");
        }

        return lines;
    }

    private DbCommand Command(SqlQuery query)
    {
        var cmd = Connection.CreateCommand();
        cmd.CommandText = query.Sql;
        foreach (var (name, value) in query.Parameters)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }

        return cmd;
    }

    public void Experiment(long id, string name, long creationTime, string stage = "active", long? lastUpdate = null) =>
        Execute(
            "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (@a0, @a1, @a2, @a3, @a4, @a5)",
            id, name, $"/artifacts/{id}", stage, creationTime, lastUpdate ?? creationTime);

    public void ExperimentTag(long experimentId, string key, string value) =>
        Execute("INSERT INTO experiment_tags (experiment_id, key, value) VALUES (@a0, @a1, @a2)", experimentId, key, value);

    public void Run(string id, long experimentId, string name, string user, string status, long start, long? end = null, string stage = "active") =>
        Execute(
            "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, deleted_time, lifecycle_stage, artifact_uri) VALUES (@a0, @a1, @a2, @a3, @a4, @a5, @a6, NULL, @a7, @a8)",
            id, experimentId, name, user, status, start, end, stage, $"/artifacts/{experimentId}/{id}/artifacts");

    /// <summary>Writes the history point and the latest value the way the store does (NaN as 0 with is_nan = 1).</summary>
    public void Metric(string runId, string key, double value, long step = 0)
    {
        var isNan = double.IsNaN(value) ? (short)1 : (short)0;
        var stored = double.IsNaN(value) ? 0.0 : value;
        Execute("INSERT INTO metrics (run_key, key, id, value, is_nan, timestamp, step) SELECT r.run_key, @a1, (SELECT COALESCE(MAX(m.id), 0) + 1 FROM metrics m), @a2, @a3, 0, @a4 FROM runs r WHERE r.run_uuid = @a0", runId, key, stored, isNan, step);
        Execute("DELETE FROM latest_metrics WHERE run_uuid = @a0 AND key = @a1", runId, key);
        Execute("INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step, experiment_id) SELECT @a0, @a1, @a2, @a3, 0, @a4, r.experiment_id FROM runs r WHERE r.run_uuid = @a0", runId, key, stored, isNan, step);
    }

    public void Param(string runId, string key, string value) =>
        Execute("INSERT INTO params (run_uuid, key, value, experiment_id) SELECT @a0, @a1, @a2, r.experiment_id FROM runs r WHERE r.run_uuid = @a0", runId, key, value);

    public void Tag(string runId, string key, string value) =>
        Execute("INSERT INTO tags (run_uuid, key, value, experiment_id) SELECT @a0, @a1, @a2, r.experiment_id FROM runs r WHERE r.run_uuid = @a0", runId, key, value);

    public void Input(string runId, long experimentId, string datasetName, string digest, string? context)
    {
        var datasetId = $"{datasetName}-{digest}";
        Execute(
            "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, source_type, source, schema, profile) SELECT @a0, @a1, @a2, @a3, 'local', 's', NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM datasets WHERE dataset_uuid = @a0)",
            datasetId, experimentId, datasetName, digest);
        var inputId = $"{runId}-{datasetId}";
        Execute("INSERT INTO inputs (input_uuid, dataset_uuid, run_uuid) VALUES (@a0, @a1, @a2)", inputId, datasetId, runId);
        if (context is not null)
        {
            Execute("INSERT INTO input_tags (input_uuid, name, value) VALUES (@a0, 'mlflow.data.context', @a1)", inputId, context);
        }
    }

    public void Dispose()
    {
        if (_schema is not null)
        {
            Execute($"DROP SCHEMA {_schema} CASCADE");
        }

        Connection.Dispose();
    }
}
