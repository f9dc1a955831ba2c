using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Cairn.Tuning.Storage;

/// <summary>
/// Study storage in SQLite or PostgreSQL, shared by any number of processes. Trial numbers are assigned inside a
/// transaction that serialises claims per study (SQLite: BEGIN IMMEDIATE; PostgreSQL: a row lock on the study), so
/// they are unique and gap-free, and a waiting (enqueued) trial is handed to exactly one worker. Heartbeats use the
/// database clock, so workers on machines with skewed clocks still agree on which trials are stale.
/// </summary>
public sealed class SqlStudyStorage : IStudyStorage
{
    private readonly SqlDialect _dialect;
    private readonly Lock _cacheLock = new();
    // Finished trials never change, so they are read once; the history read before every trial then only
    // fetches the trials table plus what is new or still running.
    private readonly Dictionary<long, FrozenTrial> _finished = [];
    private bool _initialised;
    private readonly SemaphoreSlim _initLock = new(1, 1);

    private SqlStudyStorage(SqlDialect dialect) => _dialect = dialect;

    /// <summary>Opens a SQLite database file (created with its schema if missing).</summary>
    public static SqlStudyStorage Sqlite(string path) => new(new SqliteDialect(path));

    /// <summary>Opens a PostgreSQL database from an Npgsql connection string.</summary>
    public static SqlStudyStorage Postgres(string connectionString) => new(new PostgresDialect(connectionString));

    public string Provider => _dialect.Name;

    public async Task<StudyInfo> CreateStudyAsync(string name, StudyDirection direction, bool loadIfExists, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await _dialect.BeginWriteAsync(conn, cancellationToken).ConfigureAwait(false);
        var existing = await ReadStudyAsync(conn, tx, name, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            if (!loadIfExists) throw new InvalidOperationException($"A study named '{name}' already exists.");
            return existing;
        }
        await ExecAsync(conn, tx, $"INSERT INTO tuning_studies (name, direction, created_at) VALUES (@name, @dir, {_dialect.NowMs}) ON CONFLICT (name) DO NOTHING",
            cancellationToken, ("@name", name), ("@dir", direction.ToString()));
        var info = await ReadStudyAsync(conn, tx, name, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return info!;
    }

    public async Task<StudyInfo?> GetStudyAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ReadStudyAsync(conn, null, name, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<StudyInfo>> ListStudiesAsync(CancellationToken cancellationToken = default)
    {
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(conn, null, "SELECT study_id, name, direction, created_at FROM tuning_studies ORDER BY study_id");
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<StudyInfo>();
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false)) list.Add(ReadStudy(r));
        return list;
    }

    public async Task<FrozenTrial> EnqueueTrialAsync(long studyId, IReadOnlyDictionary<string, string> systemAttrs, CancellationToken cancellationToken = default)
    {
        long trialId;
        await using (var conn = await OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var tx = await _dialect.BeginWriteAsync(conn, cancellationToken).ConfigureAwait(false);
            await LockStudyAsync(conn, tx, studyId, cancellationToken).ConfigureAwait(false);
            trialId = await InsertTrialAsync(conn, tx, studyId, "WAITING", cancellationToken).ConfigureAwait(false);
            foreach (var (k, v) in systemAttrs)
                await ExecAsync(conn, tx, "INSERT INTO tuning_trial_attrs (trial_id, kind, attr_key, attr_value) VALUES (@t, 's', @k, @v)",
                    cancellationToken, ("@t", trialId), ("@k", k), ("@v", v));
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        return (await GetTrialAsync(trialId, cancellationToken).ConfigureAwait(false))!;
    }

    public async Task<FrozenTrial?> ClaimTrialAsync(long studyId, int? maxTrials, CancellationToken cancellationToken = default)
    {
        long trialId;
        await using (var conn = await OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var tx = await _dialect.BeginWriteAsync(conn, cancellationToken).ConfigureAwait(false);
            await LockStudyAsync(conn, tx, studyId, cancellationToken).ConfigureAwait(false);
            var waiting = await ScalarAsync(conn, tx, "SELECT trial_id FROM tuning_trials WHERE study_id = @s AND state = 'WAITING' ORDER BY number LIMIT 1",
                cancellationToken, ("@s", studyId)).ConfigureAwait(false);
            if (waiting is not null and not DBNull)
            {
                trialId = Convert.ToInt64(waiting);
                await ExecAsync(conn, tx, $"UPDATE tuning_trials SET state = 'RUNNING', started_at = {_dialect.NowMs}, heartbeat_at = {_dialect.NowMs} WHERE trial_id = @t",
                    cancellationToken, ("@t", trialId));
            }
            else
            {
                if (maxTrials is { } max)
                {
                    var count = Convert.ToInt64(await ScalarAsync(conn, tx, "SELECT COUNT(*) FROM tuning_trials WHERE study_id = @s AND state <> 'FAIL'",
                        cancellationToken, ("@s", studyId)).ConfigureAwait(false));
                    if (count >= max)
                    {
                        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                        return null;
                    }
                }
                trialId = await InsertTrialAsync(conn, tx, studyId, "RUNNING", cancellationToken).ConfigureAwait(false);
            }
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        return await GetTrialAsync(trialId, cancellationToken).ConfigureAwait(false);
    }

    public async Task WriteTrialProgressAsync(long trialId, TrialProgress progress, CancellationToken cancellationToken = default)
    {
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await _dialect.BeginWriteAsync(conn, cancellationToken).ConfigureAwait(false);
        await WriteProgressAsync(conn, tx, trialId, progress, cancellationToken).ConfigureAwait(false);
        await ExecAsync(conn, tx, $"UPDATE tuning_trials SET heartbeat_at = {_dialect.NowMs} WHERE trial_id = @t AND state = 'RUNNING'", cancellationToken, ("@t", trialId));
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> FinishTrialAsync(long trialId, TrialState state, double? value, TrialProgress progress, CancellationToken cancellationToken = default)
    {
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await _dialect.BeginWriteAsync(conn, cancellationToken).ConfigureAwait(false);
        var changed = await ExecAsync(conn, tx, $"UPDATE tuning_trials SET state = @st, value = @v, completed_at = {_dialect.NowMs} WHERE trial_id = @t AND state = 'RUNNING'",
            cancellationToken, ("@st", StateName(state)), ("@v", value), ("@t", trialId));
        if (changed == 0)
        {
            await tx.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return false;
        }
        await WriteProgressAsync(conn, tx, trialId, progress, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<IReadOnlyList<FrozenTrial>> FailStaleTrialsAsync(long studyId, TimeSpan timeout, IReadOnlyCollection<long>? aliveTrialIds = null, CancellationToken cancellationToken = default)
    {
        var ids = new List<long>();
        var keep = aliveTrialIds is { Count: > 0 } ? $" AND trial_id NOT IN ({string.Join(',', aliveTrialIds)})" : "";
        await using (var conn = await OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var tx = await _dialect.BeginWriteAsync(conn, cancellationToken).ConfigureAwait(false);
            // One UPDATE decides: a trial is failed by exactly one worker even when several check at once.
            await using var cmd = Command(conn, tx,
                $"UPDATE tuning_trials SET state = 'FAIL', completed_at = {_dialect.NowMs} WHERE study_id = @s AND state = 'RUNNING' AND heartbeat_at < {_dialect.NowMs} - @ms{keep} RETURNING trial_id",
                ("@s", studyId), ("@ms", (long)timeout.TotalMilliseconds));
            await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false)) ids.Add(r.GetInt64(0));
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        var result = new List<FrozenTrial>();
        foreach (var id in ids) result.Add((await GetTrialAsync(id, cancellationToken).ConfigureAwait(false))!);
        return result;
    }

    public async Task<IReadOnlyList<FrozenTrial>> GetTrialsAsync(long studyId, CancellationToken cancellationToken = default)
    {
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ReadTrialsAsync(conn, "t.study_id = @id", studyId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<FrozenTrial?> GetTrialAsync(long trialId, CancellationToken cancellationToken = default)
    {
        await using var conn = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var list = await ReadTrialsAsync(conn, "t.trial_id = @id", trialId, cancellationToken).ConfigureAwait(false);
        return list.Count == 0 ? null : list[0];
    }

    public ValueTask DisposeAsync()
    {
        _initLock.Dispose();
        _dialect.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var conn = await _dialect.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (_initialised) return conn;
        await _initLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_initialised)
            {
                await _dialect.CreateSchemaAsync(conn, cancellationToken).ConfigureAwait(false);
                _initialised = true;
            }
        }
        finally { _initLock.Release(); }
        return conn;
    }

    private async Task LockStudyAsync(DbConnection conn, DbTransaction tx, long studyId, CancellationToken ct)
    {
        if (_dialect.LockStudySql is { } sql)
            await ExecAsync(conn, tx, sql, ct, ("@s", studyId)).ConfigureAwait(false);
    }

    private async Task<long> InsertTrialAsync(DbConnection conn, DbTransaction tx, long studyId, string state, CancellationToken ct)
    {
        var running = state == "RUNNING";
        var sql = "INSERT INTO tuning_trials (study_id, number, state, started_at, heartbeat_at) VALUES (@s, " +
                  "(SELECT COALESCE(MAX(number) + 1, 0) FROM tuning_trials WHERE study_id = @s), @st, " +
                  (running ? $"{_dialect.NowMs}, {_dialect.NowMs}" : "NULL, NULL") + ") RETURNING trial_id";
        return Convert.ToInt64(await ScalarAsync(conn, tx, sql, ct, ("@s", studyId), ("@st", state)).ConfigureAwait(false));
    }

    private async Task WriteProgressAsync(DbConnection conn, DbTransaction tx, long trialId, TrialProgress p, CancellationToken ct)
    {
        foreach (var (name, dist, value) in p.Params)
            await ExecAsync(conn, tx, "INSERT INTO tuning_trial_params (trial_id, param_name, distribution, param_value) VALUES (@t, @n, @d, @v) ON CONFLICT (trial_id, param_name) DO NOTHING",
                ct, ("@t", trialId), ("@n", name), ("@d", dist.ToJson()), ("@v", value)).ConfigureAwait(false);
        foreach (var (step, value) in p.IntermediateValues)
            await ExecAsync(conn, tx, "INSERT INTO tuning_trial_values (trial_id, step, step_value) VALUES (@t, @s, @v) ON CONFLICT (trial_id, step) DO NOTHING",
                ct, ("@t", trialId), ("@s", step), ("@v", double.IsNaN(value) ? null : value)).ConfigureAwait(false);
        foreach (var (k, v) in p.UserAttrs)
            await UpsertAttrAsync(conn, tx, trialId, "u", k, v, ct).ConfigureAwait(false);
        foreach (var (k, v) in p.SystemAttrs)
            await UpsertAttrAsync(conn, tx, trialId, "s", k, v, ct).ConfigureAwait(false);
    }

    private Task<int> UpsertAttrAsync(DbConnection conn, DbTransaction tx, long trialId, string kind, string key, string value, CancellationToken ct) =>
        ExecAsync(conn, tx, "INSERT INTO tuning_trial_attrs (trial_id, kind, attr_key, attr_value) VALUES (@t, @kind, @k, @v) ON CONFLICT (trial_id, kind, attr_key) DO UPDATE SET attr_value = excluded.attr_value",
            ct, ("@t", trialId), ("@kind", kind), ("@k", key), ("@v", value));

    private async Task<IReadOnlyList<FrozenTrial>> ReadTrialsAsync(DbConnection conn, string where, long id, CancellationToken ct)
    {
        var rows = new List<(long Id, int Number, TrialState State, double? Value, long? Start, long? End)>();
        await using (var cmd = Command(conn, null, $"SELECT t.trial_id, t.number, t.state, t.value, t.started_at, t.completed_at FROM tuning_trials t WHERE {where} ORDER BY t.number", ("@id", id)))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false))
                rows.Add((r.GetInt64(0), r.GetInt32(1), ParseState(r.GetString(2)), r.IsDBNull(3) ? null : r.GetDouble(3),
                    r.IsDBNull(4) ? null : r.GetInt64(4), r.IsDBNull(5) ? null : r.GetInt64(5)));
        }
        var result = new FrozenTrial?[rows.Count];
        var missing = new Dictionary<long, int>();
        lock (_cacheLock)
        {
            for (var i = 0; i < rows.Count; i++)
            {
                if (_finished.TryGetValue(rows[i].Id, out var cached) && cached.State == rows[i].State) result[i] = cached;
                else missing[rows[i].Id] = i;
            }
        }
        if (missing.Count == 0) return result!;

        var parts = missing.Keys.ToDictionary(k => k, _ => (Dists: new Dictionary<string, Distribution>(), Params: new Dictionary<string, double>(),
            Values: new SortedDictionary<int, double>(), User: new Dictionary<string, string>(), Sys: new Dictionary<string, string>()));
        // Only the new or unfinished trials' details are read; the id filter keeps this one query per table.
        var filter = where.StartsWith("t.trial_id", StringComparison.Ordinal) || missing.Count == rows.Count
            ? $"t.{where[2..]}"
            : $"t.{where[2..]} AND t.trial_id IN ({string.Join(',', missing.Keys)})";
        await using (var cmd = Command(conn, null, $"SELECT p.trial_id, p.param_name, p.distribution, p.param_value FROM tuning_trial_params p JOIN tuning_trials t ON t.trial_id = p.trial_id WHERE {filter}", ("@id", id)))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                if (!parts.TryGetValue(r.GetInt64(0), out var part)) continue;
                part.Dists[r.GetString(1)] = Distribution.FromJson(r.GetString(2));
                part.Params[r.GetString(1)] = r.GetDouble(3);
            }
        await using (var cmd = Command(conn, null, $"SELECT v.trial_id, v.step, v.step_value FROM tuning_trial_values v JOIN tuning_trials t ON t.trial_id = v.trial_id WHERE {filter}", ("@id", id)))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            while (await r.ReadAsync(ct).ConfigureAwait(false))
                if (parts.TryGetValue(r.GetInt64(0), out var part))
                    part.Values[r.GetInt32(1)] = r.IsDBNull(2) ? double.NaN : r.GetDouble(2);
        await using (var cmd = Command(conn, null, $"SELECT a.trial_id, a.kind, a.attr_key, a.attr_value FROM tuning_trial_attrs a JOIN tuning_trials t ON t.trial_id = a.trial_id WHERE {filter}", ("@id", id)))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            while (await r.ReadAsync(ct).ConfigureAwait(false))
                if (parts.TryGetValue(r.GetInt64(0), out var part))
                    (r.GetString(1) == "u" ? part.User : part.Sys)[r.GetString(2)] = r.GetString(3);

        lock (_cacheLock)
        {
            foreach (var (trialId, index) in missing)
            {
                var row = rows[index];
                var part = parts[trialId];
                var t = new FrozenTrial
                {
                    TrialId = row.Id,
                    Number = row.Number,
                    State = row.State,
                    Value = row.Value,
                    Distributions = part.Dists,
                    InternalParams = part.Params,
                    IntermediateValues = part.Values,
                    UserAttrs = part.User,
                    SystemAttrs = part.Sys,
                    StartedAt = row.Start is { } s ? DateTimeOffset.FromUnixTimeMilliseconds(s) : null,
                    CompletedAt = row.End is { } e ? DateTimeOffset.FromUnixTimeMilliseconds(e) : null,
                };
                if (t.IsFinished) _finished[t.TrialId] = t;
                result[index] = t;
            }
        }
        return result!;
    }

    private static async Task<StudyInfo?> ReadStudyAsync(DbConnection conn, DbTransaction? tx, string name, CancellationToken ct)
    {
        await using var cmd = Command(conn, tx, "SELECT study_id, name, direction, created_at FROM tuning_studies WHERE name = @name", ("@name", name));
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await r.ReadAsync(ct).ConfigureAwait(false) ? ReadStudy(r) : null;
    }

    private static StudyInfo ReadStudy(DbDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), Enum.Parse<StudyDirection>(r.GetString(2)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)));

    internal static string StateName(TrialState s) => s switch
    {
        TrialState.Running => "RUNNING",
        TrialState.Complete => "COMPLETE",
        TrialState.Pruned => "PRUNED",
        TrialState.Failed => "FAIL",
        TrialState.Waiting => "WAITING",
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };

    private static TrialState ParseState(string s) => s switch
    {
        "RUNNING" => TrialState.Running,
        "COMPLETE" => TrialState.Complete,
        "PRUNED" => TrialState.Pruned,
        "FAIL" => TrialState.Failed,
        "WAITING" => TrialState.Waiting,
        _ => throw new FormatException($"Unknown trial state '{s}' in the database."),
    };

    private static DbCommand Command(DbConnection conn, DbTransaction? tx, string sql, params (string Name, object? Value)[] parameters)
    {
        var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (name, value) in parameters)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            p.DbType = value switch
            {
                long => DbType.Int64,
                int => DbType.Int32,
                double => DbType.Double,
                string => DbType.String,
                _ => DbType.Double, // only nullable doubles are passed as null
            };
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    private static async Task<int> ExecAsync(DbConnection conn, DbTransaction? tx, string sql, CancellationToken ct, params (string, object?)[] parameters)
    {
        await using var cmd = Command(conn, tx, sql, parameters);
        return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(DbConnection conn, DbTransaction? tx, string sql, CancellationToken ct, params (string, object?)[] parameters)
    {
        await using var cmd = Command(conn, tx, sql, parameters);
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }
}

/// <summary>What differs between SQLite and PostgreSQL: connections, the schema's types, the clock and write locking.</summary>
internal abstract class SqlDialect : IDisposable
{
    public abstract string Name { get; }
    public abstract string NowMs { get; }
    public abstract string? LockStudySql { get; }
    public abstract Task<DbConnection> OpenAsync(CancellationToken ct);
    public abstract Task<DbTransaction> BeginWriteAsync(DbConnection conn, CancellationToken ct);
    public abstract Task CreateSchemaAsync(DbConnection conn, CancellationToken ct);
    public virtual void Dispose() { }

    protected static string Schema(string id, string dbl) => $"""
        CREATE TABLE IF NOT EXISTS tuning_studies (
            study_id {id},
            name TEXT NOT NULL UNIQUE,
            direction TEXT NOT NULL,
            created_at BIGINT NOT NULL);
        CREATE TABLE IF NOT EXISTS tuning_trials (
            trial_id {id},
            study_id BIGINT NOT NULL REFERENCES tuning_studies (study_id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            state TEXT NOT NULL,
            value {dbl},
            started_at BIGINT,
            completed_at BIGINT,
            heartbeat_at BIGINT,
            UNIQUE (study_id, number));
        CREATE INDEX IF NOT EXISTS ix_tuning_trials_state ON tuning_trials (study_id, state);
        CREATE TABLE IF NOT EXISTS tuning_trial_params (
            trial_id BIGINT NOT NULL REFERENCES tuning_trials (trial_id) ON DELETE CASCADE,
            param_name TEXT NOT NULL,
            distribution TEXT NOT NULL,
            param_value {dbl} NOT NULL,
            PRIMARY KEY (trial_id, param_name));
        CREATE TABLE IF NOT EXISTS tuning_trial_values (
            trial_id BIGINT NOT NULL REFERENCES tuning_trials (trial_id) ON DELETE CASCADE,
            step INTEGER NOT NULL,
            step_value {dbl},
            PRIMARY KEY (trial_id, step));
        CREATE TABLE IF NOT EXISTS tuning_trial_attrs (
            trial_id BIGINT NOT NULL REFERENCES tuning_trials (trial_id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            attr_key TEXT NOT NULL,
            attr_value TEXT NOT NULL,
            PRIMARY KEY (trial_id, kind, attr_key));
        """;
}

internal sealed class SqliteDialect : SqlDialect
{
    private readonly string _connectionString;

    public SqliteDialect(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        // DefaultTimeout also bounds how long a writer waits for SQLite's lock held by another process.
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, DefaultTimeout = 60, Pooling = true }.ToString();
    }

    public override string Name => "sqlite";
    public override string NowMs => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
    public override string? LockStudySql => null; // BEGIN IMMEDIATE already holds the database's write lock

    public override async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        var conn = new SqliteConnection(_connectionString);
        await conn.OpenAsync(ct).ConfigureAwait(false);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "PRAGMA busy_timeout = 60000; PRAGMA foreign_keys = ON;";
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        return conn;
    }

    public override Task<DbTransaction> BeginWriteAsync(DbConnection conn, CancellationToken ct) =>
        Task.FromResult<DbTransaction>(((SqliteConnection)conn).BeginTransaction(deferred: false));

    public override async Task CreateSchemaAsync(DbConnection conn, CancellationToken ct)
    {
        await using (var wal = conn.CreateCommand())
        {
            // WAL lets readers (history reads) run beside the writer of another process.
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            await wal.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await using var tx = await BeginWriteAsync(conn, ct).ConfigureAwait(false);
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = Schema("INTEGER PRIMARY KEY AUTOINCREMENT", "REAL");
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }
}

internal sealed class PostgresDialect : SqlDialect
{
    private readonly NpgsqlDataSource _dataSource;

    public PostgresDialect(string connectionString) => _dataSource = NpgsqlDataSource.Create(connectionString);

    public override string Name => "postgresql";
    public override string NowMs => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";
    public override string? LockStudySql => "SELECT study_id FROM tuning_studies WHERE study_id = @s FOR UPDATE";

    public override async Task<DbConnection> OpenAsync(CancellationToken ct) =>
        await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);

    public override async Task<DbTransaction> BeginWriteAsync(DbConnection conn, CancellationToken ct) =>
        await conn.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct).ConfigureAwait(false);

    public override async Task CreateSchemaAsync(DbConnection conn, CancellationToken ct)
    {
        await using var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        // Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's catalog; an advisory lock serialises it.
        cmd.CommandText = "SELECT pg_advisory_xact_lock(727274001);" + Schema("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "DOUBLE PRECISION");
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    public override void Dispose() => _dataSource.Dispose();
}
