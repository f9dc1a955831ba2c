using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Search;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using SQLitePCL;

namespace Cairn.Storage.Sql;

/// <summary>
/// The tracking store on SQLite or PostgreSQL. Reads use pooled connections of their own; every
/// write goes through the database's single <see cref="WriteQueue"/> (group commit), which is why
/// concurrent writers never see "database is locked" on SQLite.
/// </summary>
public sealed class SqlTrackingStore : ITrackingStore
{
    private const string RunColumns = "run_uuid, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage";

    private readonly SqlDatabase _db;
    private readonly WriteQueue _writer;
    private readonly WalCheckpointer? _checkpointer;
    private readonly string _artifactRoot;
    private int _runsSinceAnalyze;
    private int _runsAtLastAnalyze;
    private int _analyzing;

    private SqlTrackingStore(SqlDatabase db, string artifactRoot)
    {
        _db = db;
        _artifactRoot = artifactRoot;
        _writer = new WriteQueue(db);
        _checkpointer = db.Dialect == SqlDialect.Sqlite ? new WalCheckpointer(db) : null;
    }

    public SqlDialect Dialect => _db.Dialect;

    /// <summary>The database and its one writer, shared by the model registry store on the same database.</summary>
    internal SqlDatabase Database => _db;

    internal WriteQueue Writer => _writer;

    /// <summary>
    /// Opens the store at <paramref name="uri"/>, applying migrations if the schema is behind, and
    /// makes sure the "Default" experiment (id 0) exists. New experiments' artifacts go under
    /// <paramref name="artifactRoot"/> (a URI such as <c>mlflow-artifacts:/</c> or <c>file:///data</c>).
    /// </summary>
    public static async Task<SqlTrackingStore> OpenAsync(string uri, string artifactRoot, CancellationToken ct = default)
    {
        var db = SqlDatabase.Open(uri);
        await Migrator.UpgradeAsync(db, ct).ConfigureAwait(false);
        var store = new SqlTrackingStore(db, artifactRoot);
        await store.EnsureDefaultExperimentAsync(ct).ConfigureAwait(false);
        return store;
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private string ExperimentLocation(long id) => _artifactRoot.TrimEnd('/') + "/" + id.ToString(CultureInfo.InvariantCulture);

    private Task EnsureDefaultExperimentAsync(CancellationToken ct) =>
        _writer.WriteAsync(async w =>
        {
            var now = Now();
            await w.ExecAsync(
                "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) " +
                "VALUES (0, 'Default', @p0, 'active', @p1, @p1) ON CONFLICT DO NOTHING",
                ExperimentLocation(0), now).ConfigureAwait(false);
        }, ct);

    // ---------------------------------------------------------------- experiments

    public async Task<string> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyList<Tag> tags, CancellationToken ct = default)
    {
        Validation.ValidateExperimentName(name);
        foreach (var tag in tags)
        {
            Validation.ValidateExperimentTag(tag);
        }

        var location = NormalizeArtifactLocation(artifactLocation);
        return await _writer.WriteAsync(async w =>
        {
            await using (var exists = w.Command("SELECT 1 FROM experiments WHERE name = @p0", name))
            {
                if (await exists.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null)
                {
                    throw new MlflowException(ErrorCode.ResourceAlreadyExists, $"Experiment(name={name}) already exists.");
                }
            }

            var now = Now();
            long id;
            await using (var insert = w.Command(
                "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time) " +
                "VALUES (@p0, @p1, 'active', @p2, @p2) RETURNING experiment_id", name, location ?? "", now))
            {
                id = Convert.ToInt64(await insert.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
            }

            if (location is null)
            {
                await w.ExecAsync("UPDATE experiments SET artifact_location = @p0 WHERE experiment_id = @p1", ExperimentLocation(id), id).ConfigureAwait(false);
            }

            foreach (var tag in tags)
            {
                await w.ExecAsync(
                    "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (@p0, @p1, @p2) ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
                    id, tag.Key, tag.Value).ConfigureAwait(false);
            }

            return id.ToString(CultureInfo.InvariantCulture);
        }, ct).ConfigureAwait(false);
    }

    /// <summary>A relative path becomes absolute (against the working directory), as MLflow resolves it.</summary>
    private static string? NormalizeArtifactLocation(string? location)
    {
        if (string.IsNullOrEmpty(location))
        {
            return null;
        }

        if (location.Contains('#', StringComparison.Ordinal))
        {
            throw MlflowException.InvalidParameter("'artifact_location' URL can't include fragments or params.");
        }

        var query = location.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0 && Uri.UnescapeDataString(location[query..]).Contains("..", StringComparison.Ordinal))
        {
            throw MlflowException.InvalidParameter("Invalid query string");
        }

        if (UriScheme.Of(location) is not null)
        {
            return location;
        }

        return new Uri(Path.GetFullPath(location)).AbsoluteUri;
    }

    private static long ParseExperimentId(string experimentId) =>
        long.TryParse(experimentId, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw MlflowException.NotFound($"No Experiment with id={experimentId} exists");

    public async Task<Experiment> GetExperimentAsync(string experimentId, CancellationToken ct = default)
    {
        var id = ParseExperimentId(experimentId);
        await using var connection = await _db.OpenAsync(ct).ConfigureAwait(false);
        var found = await LoadExperimentsAsync(connection, [id], ct).ConfigureAwait(false);
        return found.Count == 1 ? found[0] : throw MlflowException.NotFound($"No Experiment with id={experimentId} exists");
    }

    public async Task<Experiment> GetExperimentByNameAsync(string name, CancellationToken ct = default)
    {
        await using var connection = await _db.OpenAsync(ct).ConfigureAwait(false);
        long? id = null;
        await using (var cmd = ReadCommand(connection, "SELECT experiment_id FROM experiments WHERE name = @p0", name))
        {
            if (await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is { } value and not DBNull)
            {
                id = Convert.ToInt64(value, CultureInfo.InvariantCulture);
            }
        }

        if (id is null)
        {
            throw MlflowException.NotFound($"Could not find experiment with name '{name}'");
        }

        return (await LoadExperimentsAsync(connection, [id.Value], ct).ConfigureAwait(false))[0];
    }

    public async Task<Page<Experiment>> SearchExperimentsAsync(ExperimentSearchQuery query, CancellationToken ct = default)
    {
        ValidateMaxResults(query.MaxResults, Validation.MaxSearchResults);
        var offset = PageToken.Decode(query.PageToken);

        // Experiment search looks one row ahead, so a last full page carries no token (as MLflow's).
        var sql = ExperimentSearchSql.Build(_db.Dialect, query.ViewType, query.Filter, query.OrderBy, offset, query.MaxResults + 1);
        await using var connection = await _db.OpenAsync(ct).ConfigureAwait(false);
        var ids = new List<long>();
        await using (var cmd = ReadCommand(connection, sql))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                ids.Add(reader.GetInt64(0));
            }
        }

        string? next = null;
        if (ids.Count > query.MaxResults)
        {
            ids.RemoveAt(ids.Count - 1);
            next = PageToken.Encode(offset + query.MaxResults);
        }

        return new Page<Experiment>(await LoadExperimentsAsync(connection, ids, ct).ConfigureAwait(false), next);
    }

    private static void ValidateMaxResults(int maxResults, int limit)
    {
        if (maxResults <= 0)
        {
            throw MlflowException.InvalidParameter($"Invalid value {maxResults} for parameter 'max_results' supplied. It must be a positive integer");
        }

        if (maxResults > limit)
        {
            throw MlflowException.InvalidParameter($"Invalid value {maxResults} for parameter 'max_results' supplied. It must be at most {limit}, but got value {maxResults}");
        }
    }

    private async Task<List<Experiment>> LoadExperimentsAsync(DbConnection connection, IReadOnlyList<long> ids, CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        var (inSql, inArg) = InList("experiment_id", ids);
        var rows = new Dictionary<long, (string Name, string Location, string Stage, long Created, long Updated)>();
        await using (var cmd = ReadInCommand(connection, $"SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time FROM experiments WHERE {inSql}", inArg))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                rows[reader.GetInt64(0)] = (reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetInt64(5));
            }
        }

        var tags = new Dictionary<long, List<Tag>>();
        await using (var cmd = ReadInCommand(connection, $"SELECT experiment_id, key, value FROM experiment_tags WHERE {inSql}", inArg))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var id = reader.GetInt64(0);
                if (!tags.TryGetValue(id, out var list))
                {
                    tags[id] = list = [];
                }

                list.Add(new Tag(reader.GetString(1), reader.GetString(2)));
            }
        }

        var result = new List<Experiment>(ids.Count);
        foreach (var id in ids)
        {
            if (rows.TryGetValue(id, out var r))
            {
                result.Add(new Experiment(id.ToString(CultureInfo.InvariantCulture), r.Name, r.Location, r.Stage, r.Created, r.Updated,
                    tags.TryGetValue(id, out var t) ? t : []));
            }
        }

        return result;
    }

    public Task RenameExperimentAsync(string experimentId, string newName, CancellationToken ct = default)
    {
        Validation.ValidateExperimentName(newName, "new_name");
        var id = ParseExperimentId(experimentId);
        return _writer.WriteAsync(async w =>
        {
            var stage = await ExperimentStageAsync(w, id, ct).ConfigureAwait(false);
            if (stage != LifecycleStage.Active)
            {
                throw new MlflowException(ErrorCode.InvalidState, "Cannot rename a non-active experiment.");
            }

            await using (var clash = w.Command("SELECT experiment_id FROM experiments WHERE name = @p0", newName))
            {
                if (await clash.ExecuteScalarAsync(ct).ConfigureAwait(false) is { } other && Convert.ToInt64(other, CultureInfo.InvariantCulture) != id)
                {
                    throw new MlflowException(ErrorCode.BadRequest, $"Experiment(name={newName}) already exists.");
                }
            }

            await w.ExecAsync("UPDATE experiments SET name = @p0, last_update_time = @p1 WHERE experiment_id = @p2", newName, Now(), id).ConfigureAwait(false);
        }, ct);
    }

    public Task DeleteExperimentAsync(string experimentId, CancellationToken ct = default) =>
        SetExperimentStageAsync(experimentId, LifecycleStage.Deleted, ct);

    public Task RestoreExperimentAsync(string experimentId, CancellationToken ct = default) =>
        SetExperimentStageAsync(experimentId, LifecycleStage.Active, ct);

    /// <summary>Deleting or restoring an experiment does the same to its runs, as MLflow does.</summary>
    private Task SetExperimentStageAsync(string experimentId, string target, CancellationToken ct)
    {
        var id = ParseExperimentId(experimentId);
        return _writer.WriteAsync(async w =>
        {
            var stage = await ExperimentStageAsync(w, id, ct).ConfigureAwait(false);
            if (stage == target)
            {
                throw MlflowException.NotFound($"No Experiment with id={experimentId} exists");
            }

            var now = Now();
            await w.ExecAsync("UPDATE experiments SET lifecycle_stage = @p0, last_update_time = @p1 WHERE experiment_id = @p2", target, now, id).ConfigureAwait(false);
            if (target == LifecycleStage.Deleted)
            {
                await w.ExecAsync("UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = @p0 WHERE experiment_id = @p1 AND lifecycle_stage = 'active'", now, id).ConfigureAwait(false);
            }
            else
            {
                await w.ExecAsync("UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE experiment_id = @p0 AND lifecycle_stage = 'deleted'", id).ConfigureAwait(false);
            }
        }, ct);
    }

    public Task SetExperimentTagAsync(string experimentId, Tag tag, CancellationToken ct = default)
    {
        Validation.ValidateExperimentTag(tag);
        var id = ParseExperimentId(experimentId);
        return _writer.WriteAsync(async w =>
        {
            var stage = await ExperimentStageAsync(w, id, ct).ConfigureAwait(false);
            if (stage != LifecycleStage.Active)
            {
                throw MlflowException.InvalidParameter($"The experiment {id} must be in the 'active' state. Current state is {stage}.");
            }

            await w.ExecAsync(
                "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (@p0, @p1, @p2) ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
                id, tag.Key, tag.Value).ConfigureAwait(false);
        }, ct);
    }

    private static async Task<string> ExperimentStageAsync(WriteContext w, long id, CancellationToken ct)
    {
        await using var cmd = w.Command("SELECT lifecycle_stage FROM experiments WHERE experiment_id = @p0", id);
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) as string
            ?? throw MlflowException.NotFound($"No Experiment with id={id} exists");
    }

    // ---------------------------------------------------------------- runs

    public async Task<Run> CreateRunAsync(NewRun run, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(run.ExperimentId))
        {
            // MLflow checks the Default experiment's state first, then fails on the missing id.
            var fallback = await GetExperimentAsync("0", ct).ConfigureAwait(false);
            if (fallback.LifecycleStage != LifecycleStage.Active)
            {
                throw MlflowException.InvalidParameter($"The experiment 0 must be in the 'active' state. Current state is {fallback.LifecycleStage}.");
            }

            throw new MlflowException(ErrorCode.BadRequest, "A run needs an experiment: experiment_id is missing.");
        }

        var experimentId = ParseExperimentId(run.ExperimentId);
        foreach (var tag in run.Tags)
        {
            Validation.ValidateKey(tag.Key, "Tag key", "key");
            Validation.ValidateRunTagValue(tag);
        }

        var tagName = run.Tags.LastOrDefault(t => t.Key == MlflowTags.RunName)?.Value;
        if (!string.IsNullOrEmpty(run.RunName) && !string.IsNullOrEmpty(tagName) && run.RunName != tagName)
        {
            throw MlflowException.InvalidParameter(
                $"Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='{run.RunName}', mlflow.runName='{tagName}').");
        }

        var name = !string.IsNullOrEmpty(run.RunName) ? run.RunName : !string.IsNullOrEmpty(tagName) ? tagName : RunNames.Generate();
        var runId = Guid.NewGuid().ToString("N");
        var tags = run.Tags.Where(t => t.Key != MlflowTags.RunName).GroupBy(t => t.Key).Select(g => g.Last()).Append(new Tag(MlflowTags.RunName, name)).ToList();

        var info = await _writer.WriteAsync(async w =>
        {
            var stage = await ExperimentStageAsync(w, experimentId, ct).ConfigureAwait(false);
            if (stage != LifecycleStage.Active)
            {
                throw MlflowException.InvalidParameter($"The experiment {experimentId} must be in the 'active' state. Current state is {stage}.");
            }

            string location;
            await using (var loc = w.Command("SELECT artifact_location FROM experiments WHERE experiment_id = @p0", experimentId))
            {
                location = (string)(await loc.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            }

            var runInfo = new RunInfo(runId, experimentId.ToString(CultureInfo.InvariantCulture), name, run.UserId ?? "", RunStatus.Running,
                run.StartTime ?? 0, null, location.TrimEnd('/') + "/" + runId + "/artifacts", LifecycleStage.Active);
            await w.ExecAsync(
                $"INSERT INTO runs ({RunColumns}) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8)",
                runId, experimentId, name, runInfo.UserId, runInfo.Status.ToWire(), runInfo.StartTime, null, runInfo.ArtifactUri, LifecycleStage.Active).ConfigureAwait(false);
            foreach (var tag in tags)
            {
                await w.ExecAsync("INSERT INTO tags (run_uuid, key, value, experiment_id) VALUES (@p0, @p1, @p2, @p3)", runId, tag.Key, tag.Value, experimentId).ConfigureAwait(false);
            }

            return runInfo;
        }, ct).ConfigureAwait(false);
        RefreshStatisticsIfGrown();
        return new Run(info, [], [], tags, []);
    }

    public async Task<Run> GetRunAsync(string runId, CancellationToken ct = default)
    {
        await using var connection = await _db.OpenAsync(ct).ConfigureAwait(false);
        var runs = await LoadRunsAsync(connection, [runId], ct).ConfigureAwait(false);
        return runs.Count == 1 ? runs[0] : throw RunNotFound(runId);
    }

    private static MlflowException RunNotFound(string runId) => MlflowException.NotFound($"Run with id={runId} not found");

    /// <summary>Checks the run exists and is active (writes to deleted runs are refused); returns its experiment and row key.</summary>
    private static async Task<(long ExperimentId, long RunKey)> ActiveRunAsync(WriteContext w, string runId, CancellationToken ct)
    {
        await using var cmd = w.Command("SELECT lifecycle_stage, experiment_id, run_key FROM runs WHERE run_uuid = @p0", runId);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            throw RunNotFound(runId);
        }

        var stage = reader.GetString(0);
        if (stage != LifecycleStage.Active)
        {
            throw MlflowException.InvalidParameter($"The run {runId} must be in the 'active' state. Current state is {stage}.");
        }

        return (reader.GetInt64(1), reader.GetInt64(2));
    }

    public async Task<RunInfo> UpdateRunAsync(string runId, RunStatus? status, long? endTime, string? runName, CancellationToken ct = default)
    {
        await _writer.WriteAsync(async w =>
        {
            var (experimentId, _) = await ActiveRunAsync(w, runId, ct).ConfigureAwait(false);
            if (status is { } s)
            {
                await w.ExecAsync("UPDATE runs SET status = @p0 WHERE run_uuid = @p1", s.ToWire(), runId).ConfigureAwait(false);
            }

            if (endTime is { } e)
            {
                await w.ExecAsync("UPDATE runs SET end_time = @p0 WHERE run_uuid = @p1", e, runId).ConfigureAwait(false);
            }

            if (!string.IsNullOrEmpty(runName))
            {
                await SetRunNameAsync(w, runId, experimentId, runName).ConfigureAwait(false);
            }
        }, ct).ConfigureAwait(false);
        return (await GetRunAsync(runId, ct).ConfigureAwait(false)).Info;
    }

    /// <summary>Parameters: run id, key, value, the run's experiment (which the writer has just read with <see cref="ActiveRunAsync"/>).</summary>
    private const string TagUpsert =
        "INSERT INTO tags (run_uuid, key, value, experiment_id) VALUES (@p0, @p1, @p2, @p3) ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value";

    private static async Task SetRunNameAsync(WriteContext w, string runId, long experimentId, string name)
    {
        await w.ExecAsync("UPDATE runs SET name = @p0 WHERE run_uuid = @p1", name, runId).ConfigureAwait(false);
        await w.ExecAsync(TagUpsert, runId, MlflowTags.RunName, name, experimentId).ConfigureAwait(false);
    }

    public Task DeleteRunAsync(string runId, CancellationToken ct = default) =>
        _writer.WriteAsync(async w =>
        {
            if (await w.ExecAsync("UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = @p0 WHERE run_uuid = @p1", Now(), runId).ConfigureAwait(false) == 0)
            {
                throw RunNotFound(runId);
            }
        }, ct);

    public Task RestoreRunAsync(string runId, CancellationToken ct = default) =>
        _writer.WriteAsync(async w =>
        {
            if (await w.ExecAsync("UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE run_uuid = @p0", runId).ConfigureAwait(false) == 0)
            {
                throw RunNotFound(runId);
            }
        }, ct);

    public Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<Param> @params, IReadOnlyList<Tag> tags, CancellationToken ct = default)
    {
        Validation.ValidateBatch(metrics, @params, tags);
        return _writer.WriteAsync(async w =>
        {
            var (experimentId, runKey) = await ActiveRunAsync(w, runId, ct).ConfigureAwait(false);
            if (@params.Count > 0)
            {
                await LogParamsAsync(w, runId, experimentId, @params, ct).ConfigureAwait(false);
            }

            foreach (var tag in tags)
            {
                if (tag.Key == MlflowTags.RunName)
                {
                    await SetRunNameAsync(w, runId, experimentId, tag.Value).ConfigureAwait(false);
                }
                else
                {
                    await w.ExecAsync(TagUpsert, runId, tag.Key, tag.Value, experimentId).ConfigureAwait(false);
                }
            }

            if (metrics.Count > 0)
            {
                await InsertMetricsAsync(w, runKey, metrics, ct).ConfigureAwait(false);
                await UpdateLatestMetricsAsync(w, runId, experimentId, metrics).ConfigureAwait(false);
            }
        }, ct);
    }

    private static async Task LogParamsAsync(WriteContext w, string runId, long experimentId, IReadOnlyList<Param> @params, CancellationToken ct)
    {
        var existing = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var cmd = w.Command("SELECT key, value FROM params WHERE run_uuid = @p0", runId))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                existing[reader.GetString(0)] = reader.GetString(1);
            }
        }

        var changed = @params.Where(p => existing.TryGetValue(p.Key, out var old) && old != p.Value).ToList();
        if (changed.Count == 1 && @params.Count == 1)
        {
            var p = changed[0];
            throw MlflowException.InvalidParameter(
                $"Changing param values is not allowed. Param with key='{p.Key}' was already logged with value='{existing[p.Key]}' for run ID='{runId}'. Attempted logging new value '{p.Value}'.");
        }

        if (changed.Count > 0)
        {
            var list = string.Join(", ", changed.Select(p => $"{{'key': '{p.Key}', 'old_value': '{existing[p.Key]}', 'new_value': '{p.Value}'}}"));
            throw MlflowException.InvalidParameter(
                $"Changing param values is not allowed. Params were already logged='[{list}]' for run ID='{runId}'.");
        }

        foreach (var p in @params)
        {
            if (!existing.ContainsKey(p.Key))
            {
                await w.ExecAsync(
                    "INSERT INTO params (run_uuid, key, value, experiment_id) VALUES (@p0, @p1, @p2, @p3)", runId, p.Key, p.Value, experimentId).ConfigureAwait(false);
            }
        }
    }

    /// <summary>NaN is kept as a flag (the value column holds 0); ±infinity is clamped as MLflow's SQL store does.</summary>
    private static (double Value, short IsNan) Encode(double value) =>
        double.IsNaN(value) ? (0, (short)1)
        : double.IsPositiveInfinity(value) ? (Validation.ClampedInfinity, (short)0)
        : double.IsNegativeInfinity(value) ? (-Validation.ClampedInfinity, (short)0)
        : (value, (short)0);

    private static async Task InsertMetricsAsync(WriteContext w, long runKey, IReadOnlyList<Metric> metrics, CancellationToken ct)
    {
        if (w.Connection is NpgsqlConnection pg)
        {
            await using var import = await pg.BeginBinaryImportAsync(
                "COPY metrics (run_key, key, value, is_nan, timestamp, step) FROM STDIN (FORMAT BINARY)", ct).ConfigureAwait(false);
            foreach (var m in metrics)
            {
                var (value, isNan) = Encode(m.Value);
                await import.StartRowAsync(ct).ConfigureAwait(false);
                await import.WriteAsync(runKey, NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
                await import.WriteAsync(m.Key, NpgsqlDbType.Text, ct).ConfigureAwait(false);
                await import.WriteAsync(value, NpgsqlDbType.Double, ct).ConfigureAwait(false);
                await import.WriteAsync(isNan, NpgsqlDbType.Smallint, ct).ConfigureAwait(false);
                await import.WriteAsync(m.Timestamp, NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
                await import.WriteAsync(m.Step, NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
            }

            await import.CompleteAsync(ct).ConfigureAwait(false);
            return;
        }

        // Ids continue each (run, key) sequence; the writer is the only one assigning them.
        var next = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var m in metrics)
        {
            if (!next.ContainsKey(m.Key))
            {
                await using var max = w.Command("SELECT COALESCE(MAX(id), 0) FROM metrics WHERE run_key = @p0 AND key = @p1", runKey, m.Key);
                next[m.Key] = Convert.ToInt64(await max.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture) + 1;
            }
        }

        // The row loop binds through SQLite's own API (the provider underneath Microsoft.Data.Sqlite):
        // binding by position without per-row name lookups and boxing doubles the insert rate. The
        // statement runs on the writer's connection, inside its open transaction.
        var db = ((SqliteConnection)w.Connection).Handle!;
        Check(db, raw.sqlite3_prepare_v2(db, "INSERT INTO metrics (run_key, key, id, value, is_nan, timestamp, step) VALUES (?, ?, ?, ?, ?, ?, ?)", out sqlite3_stmt insert));
        using (insert)
        {
            // Bindings survive sqlite3_reset: the run is bound once and the key only when it changes.
            raw.sqlite3_bind_int64(insert, 1, runKey);
            string? lastKey = null;
            long id = 0;
            foreach (var m in metrics)
            {
                if (!ReferenceEquals(m.Key, lastKey) && m.Key != lastKey)
                {
                    if (lastKey is not null)
                    {
                        next[lastKey] = id;
                    }

                    lastKey = m.Key;
                    id = next[m.Key];
                    raw.sqlite3_bind_text(insert, 2, System.Text.Encoding.UTF8.GetBytes(m.Key));
                }

                var (value, isNan) = Encode(m.Value);
                raw.sqlite3_bind_int64(insert, 3, id++);
                raw.sqlite3_bind_double(insert, 4, value);
                raw.sqlite3_bind_int(insert, 5, isNan);
                raw.sqlite3_bind_int64(insert, 6, m.Timestamp);
                raw.sqlite3_bind_int64(insert, 7, m.Step);
                var rc = raw.sqlite3_step(insert);
                if (rc != raw.SQLITE_DONE)
                {
                    Check(db, rc);
                }

                raw.sqlite3_reset(insert);
            }
        }
    }

    private static void Check(sqlite3 db, int rc)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW))
        {
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
        }
    }

    /// <summary>Newer means a higher step, then a later timestamp, then a larger value (MLflow's order).</summary>
    private static bool IsNewer(Metric a, Metric b) =>
        a.Step != b.Step ? a.Step > b.Step
        : a.Timestamp != b.Timestamp ? a.Timestamp > b.Timestamp
        : Encode(a.Value).Value > Encode(b.Value).Value;

    private static async Task UpdateLatestMetricsAsync(WriteContext w, string runId, long experimentId, IReadOnlyList<Metric> metrics)
    {
        var latest = new Dictionary<string, Metric>(StringComparer.Ordinal);
        foreach (var m in metrics)
        {
            if (!latest.TryGetValue(m.Key, out var current) || IsNewer(m, current))
            {
                latest[m.Key] = m;
            }
        }

        foreach (var m in latest.Values)
        {
            var (value, isNan) = Encode(m.Value);
            await w.ExecAsync(
                "INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step, experiment_id) " +
                "VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6) " +
                "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step " +
                "WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step AND (excluded.timestamp > latest_metrics.timestamp " +
                "OR (excluded.timestamp = latest_metrics.timestamp AND excluded.value > latest_metrics.value)))",
                runId, m.Key, value, isNan, m.Timestamp, m.Step, experimentId).ConfigureAwait(false);
        }
    }

    public Task DeleteTagAsync(string runId, string key, CancellationToken ct = default) =>
        _writer.WriteAsync(async w =>
        {
            await ActiveRunAsync(w, runId, ct).ConfigureAwait(false);
            if (await w.ExecAsync("DELETE FROM tags WHERE run_uuid = @p0 AND key = @p1", runId, key).ConfigureAwait(false) == 0)
            {
                throw MlflowException.NotFound($"No tag with name: {key} in run with id {runId}");
            }
        }, ct);

    public Task LogInputsAsync(string runId, IReadOnlyList<DatasetInput> inputs, CancellationToken ct = default)
    {
        foreach (var input in inputs)
        {
            Validation.ValidateDataset(input.Dataset);
        }

        return _writer.WriteAsync(async w =>
        {
            var (experimentId, _) = await ActiveRunAsync(w, runId, ct).ConfigureAwait(false);
            foreach (var input in inputs)
            {
                var d = input.Dataset;
                string datasetId;
                await using (var find = w.Command("SELECT dataset_uuid FROM datasets WHERE experiment_id = @p0 AND name = @p1 AND digest = @p2", experimentId, d.Name, d.Digest))
                {
                    datasetId = await find.ExecuteScalarAsync(ct).ConfigureAwait(false) as string ?? "";
                }

                if (datasetId.Length == 0)
                {
                    datasetId = Guid.NewGuid().ToString("N");
                    await w.ExecAsync(
                        "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, source_type, source, schema, profile) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7)",
                        datasetId, experimentId, d.Name, d.Digest, d.SourceType, d.Source, d.Schema, d.Profile).ConfigureAwait(false);
                }

                await using (var linked = w.Command("SELECT 1 FROM inputs WHERE run_uuid = @p0 AND dataset_uuid = @p1", runId, datasetId))
                {
                    if (await linked.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null)
                    {
                        continue;
                    }
                }

                var inputId = Guid.NewGuid().ToString("N");
                await w.ExecAsync("INSERT INTO inputs (input_uuid, dataset_uuid, run_uuid) VALUES (@p0, @p1, @p2)", inputId, datasetId, runId).ConfigureAwait(false);
                foreach (var tag in input.Tags.GroupBy(t => t.Key).Select(g => g.Last()))
                {
                    await w.ExecAsync("INSERT INTO input_tags (input_uuid, name, value) VALUES (@p0, @p1, @p2)", inputId, tag.Key, tag.Value).ConfigureAwait(false);
                }
            }
        }, ct);
    }

    public async Task<Page<Run>> SearchRunsAsync(RunSearchQuery query, CancellationToken ct = default)
    {
        ValidateMaxResults(query.MaxResults, Validation.MaxSearchResults);
        var offset = PageToken.Decode(query.PageToken);
        var plan = RunSearchSql.Build(_db.Dialect, query.ExperimentIds, query.ViewType, query.Filter, query.OrderBy, offset, query.MaxResults);
        await using var connection = await _db.OpenAsync(ct).ConfigureAwait(false);
        var ids = await RunIdsAsync(connection, plan.Query, ct).ConfigureAwait(false);
        if (ids.Count < query.MaxResults && plan.Fallback is { } fallback)
        {
            ids = await RunIdsAsync(connection, fallback, ct).ConfigureAwait(false);
        }

        // Run search hands out a token whenever a page is full, as MLflow's does.
        var next = ids.Count == query.MaxResults ? PageToken.Encode(offset + ids.Count) : null;
        return new Page<Run>(await LoadRunsAsync(connection, ids, ct).ConfigureAwait(false), next);
    }

    private static async Task<List<string>> RunIdsAsync(DbConnection connection, SqlQuery sql, CancellationToken ct)
    {
        var ids = new List<string>();
        await using var cmd = ReadCommand(connection, sql);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    public async Task<IReadOnlyList<DatasetSummary>> SearchDatasetsAsync(IReadOnlyList<string> experimentIds, int limit, CancellationToken ct = default)
    {
        // An id that is not a number names no experiment, as in MLflow's SQL store.
        var ids = experimentIds.Select(id => long.TryParse(id, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : (long?)null)
            .OfType<long>().Distinct().ToList();
        if (ids.Count == 0)
        {
            return [];
        }

        var (inSql, inArg) = InList("d.experiment_id", ids);
        var result = new List<DatasetSummary>();
        await using var connection = await _db.OpenAsync(ct).ConfigureAwait(false);
        await using var cmd = ReadInCommand(connection,
            "SELECT DISTINCT d.experiment_id, d.name, d.digest, t.value FROM datasets d " +
            "JOIN inputs i ON i.dataset_uuid = d.dataset_uuid " +
            "LEFT JOIN input_tags t ON t.input_uuid = i.input_uuid AND t.name = @p0 " +
            $"WHERE {inSql} ORDER BY d.experiment_id, d.name, d.digest, t.value LIMIT @p1",
            inArg, MlflowTags.DatasetContext, limit);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            result.Add(new DatasetSummary(reader.GetInt64(0).ToString(CultureInfo.InvariantCulture), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3)));
        }

        return result;
    }

    /// <summary>Loads whole runs (info, latest metrics, params, tags, inputs) in the order of <paramref name="ids"/>.</summary>
    private async Task<List<Run>> LoadRunsAsync(DbConnection connection, IReadOnlyList<string> ids, CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        var (inSql, inArg) = InList("run_uuid", ids);
        var infos = new Dictionary<string, RunInfo>(ids.Count, StringComparer.Ordinal);
        await using (var cmd = ReadInCommand(connection, $"SELECT {RunColumns} FROM runs WHERE {inSql}", inArg))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                Names.TryParseRunStatus(reader.GetString(4), out var status);
                var info = new RunInfo(reader.GetString(0), reader.GetInt64(1).ToString(CultureInfo.InvariantCulture), reader.GetString(2), reader.GetString(3),
                    status, reader.GetInt64(5), reader.IsDBNull(6) ? null : reader.GetInt64(6), reader.GetString(7), reader.GetString(8));
                infos[info.RunId] = info;
            }
        }

        var metrics = new Dictionary<string, List<Metric>>(StringComparer.Ordinal);
        await using (var cmd = ReadInCommand(connection, $"SELECT run_uuid, key, value, is_nan, timestamp, step FROM latest_metrics WHERE {inSql}", inArg))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                GetList(metrics, reader.GetString(0)).Add(ReadMetric(reader, 1));
            }
        }

        var @params = await ReadKeyValuesAsync(connection, $"SELECT run_uuid, key, value FROM params WHERE {inSql}", inArg, (k, v) => new Param(k, v), ct).ConfigureAwait(false);
        var tags = await ReadKeyValuesAsync(connection, $"SELECT run_uuid, key, value FROM tags WHERE {inSql}", inArg, (k, v) => new Tag(k, v), ct).ConfigureAwait(false);
        var inputs = await ReadInputsAsync(connection, ids, ct).ConfigureAwait(false);

        var runs = new List<Run>(ids.Count);
        foreach (var id in ids)
        {
            if (infos.TryGetValue(id, out var info))
            {
                runs.Add(new Run(info, metrics.GetValueOrDefault(id) ?? [], @params.GetValueOrDefault(id) ?? [], tags.GetValueOrDefault(id) ?? [], inputs.GetValueOrDefault(id) ?? []));
            }
        }

        return runs;
    }

    private async Task<Dictionary<string, List<DatasetInput>>> ReadInputsAsync(DbConnection connection, IReadOnlyList<string> runIds, CancellationToken ct)
    {
        var (inSql, inArg) = InList("i.run_uuid", runIds);
        var result = new Dictionary<string, List<DatasetInput>>(StringComparer.Ordinal);
        var byInput = new Dictionary<string, List<Tag>>(StringComparer.Ordinal);
        var rows = new List<(string RunId, string InputId, Dataset Dataset)>();
        await using (var cmd = ReadInCommand(connection,
            $"SELECT i.run_uuid, i.input_uuid, d.name, d.digest, d.source_type, d.source, d.schema, d.profile FROM inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid WHERE {inSql} ORDER BY i.input_uuid",
            inArg))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                rows.Add((reader.GetString(0), reader.GetString(1), new Dataset(reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                    reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7))));
            }
        }

        if (rows.Count == 0)
        {
            return result;
        }

        var (tagIn, tagArg) = InList("input_uuid", rows.Select(r => r.InputId).ToList());
        await using (var cmd = ReadInCommand(connection, $"SELECT input_uuid, name, value FROM input_tags WHERE {tagIn}", tagArg))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                GetList(byInput, reader.GetString(0)).Add(new Tag(reader.GetString(1), reader.GetString(2)));
            }
        }

        foreach (var (runId, inputId, dataset) in rows)
        {
            GetList(result, runId).Add(new DatasetInput(byInput.GetValueOrDefault(inputId) ?? [], dataset));
        }

        return result;
    }

    private static async Task<Dictionary<string, List<T>>> ReadKeyValuesAsync<T>(DbConnection connection, string sql, object inArg, Func<string, string, T> make, CancellationToken ct)
    {
        var result = new Dictionary<string, List<T>>(StringComparer.Ordinal);
        await using var cmd = ReadInCommand(connection, sql, inArg);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            GetList(result, reader.GetString(0)).Add(make(reader.GetString(1), reader.GetString(2)));
        }

        return result;
    }

    private static List<T> GetList<T>(Dictionary<string, List<T>> map, string key)
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = [];
        }

        return list;
    }

    /// <summary>Reads key, value, is_nan, timestamp, step starting at column <paramref name="first"/>.</summary>
    private static Metric ReadMetric(DbDataReader reader, int first)
    {
        // Columns are read in order so that sequential-access readers work too.
        var key = reader.GetString(first);
        var value = reader.GetDouble(first + 1);
        var isNan = reader.GetInt16(first + 2) != 0;
        return new Metric(key, isNan ? double.NaN : value, reader.GetInt64(first + 3), reader.GetInt64(first + 4));
    }

    // ---------------------------------------------------------------- metric history

    public async IAsyncEnumerable<SequencedMetric> GetMetricHistoryAsync(string runId, string key, long afterSequence, int limit,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        const string sql = "SELECT id, value, is_nan, timestamp, step FROM metrics WHERE run_key = (SELECT run_key FROM runs WHERE run_uuid = @p0) AND key = @p1 AND id > @p2 ORDER BY id LIMIT @p3";
        await using var connection = await _db.OpenAsync(ct).ConfigureAwait(false);
        if (connection is SqliteConnection sqlite)
        {
            // The hottest read: stepped through SQLite's own API, a contiguous range of the clustered
            // table, with no per-row provider objects. Every point shares the one key string.
            var db = sqlite.Handle!;
            Check(db, raw.sqlite3_prepare_v2(db, sql, out sqlite3_stmt select));
            using (select)
            {
                raw.sqlite3_bind_text(select, 1, runId);
                raw.sqlite3_bind_text(select, 2, key);
                raw.sqlite3_bind_int64(select, 3, afterSequence);
                raw.sqlite3_bind_int64(select, 4, limit);
                int rc;
                while ((rc = raw.sqlite3_step(select)) == raw.SQLITE_ROW)
                {
                    var value = raw.sqlite3_column_int(select, 2) != 0 ? double.NaN : raw.sqlite3_column_double(select, 1);
                    yield return new SequencedMetric(raw.sqlite3_column_int64(select, 0),
                        new Metric(key, value, raw.sqlite3_column_int64(select, 3), raw.sqlite3_column_int64(select, 4)));
                }

                Check(db, rc);
            }

            yield break;
        }

        await using var cmd = ReadCommand(connection, sql, runId, key, afterSequence, limit);
        await using var reader = await cmd.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var id = reader.GetInt64(0);
            var v = reader.GetDouble(1);
            var isNan = reader.GetInt16(2) != 0;
            yield return new SequencedMetric(id, new Metric(key, isNan ? double.NaN : v, reader.GetInt64(3), reader.GetInt64(4)));
        }
    }

    /// <summary>Histories longer than this are read in id ranges on parallel connections, one per core.</summary>
    private const long ParallelColumnsThreshold = 200_000;

    public async Task<MetricColumns> GetMetricColumnsAsync(string runId, string key, CancellationToken ct = default)
    {
        long runKey, first, last;
        await using (var connection = await _db.OpenAsync(ct).ConfigureAwait(false))
        await using (var cmd = ReadCommand(connection,
            "SELECT r.run_key, (SELECT MIN(id) FROM metrics WHERE run_key = r.run_key AND key = @p1), (SELECT MAX(id) FROM metrics WHERE run_key = r.run_key AND key = @p1) " +
            "FROM runs r WHERE r.run_uuid = @p0", runId, key))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(ct).ConfigureAwait(false) || reader.IsDBNull(1))
            {
                return new MetricColumns([], [], []);
            }

            (runKey, first, last) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }

        // The reads are CPU-bound (a row costs more to hand over than to find), so a long history
        // is split by id, which orders it, and its parts are read side by side.
        var parts = (int)Math.Clamp((last - first + 1) / ParallelColumnsThreshold, 1, Environment.ProcessorCount);
        var bounds = Enumerable.Range(0, parts + 1).Select(i => first + ((last - first + 1) * i / parts)).ToArray();
        var columns = await Task.WhenAll(Enumerable.Range(0, parts).Select(i => Task.Run(() => ReadColumnsAsync(runKey, key, bounds[i], bounds[i + 1] - 1, ct), ct))).ConfigureAwait(false);
        return columns.Length == 1 ? columns[0] : new MetricColumns(
            [.. columns.SelectMany(c => c.Steps)], [.. columns.SelectMany(c => c.Values)], [.. columns.SelectMany(c => c.Timestamps)]);
    }

    private async Task<MetricColumns> ReadColumnsAsync(long runKey, string key, long fromId, long toId, CancellationToken ct)
    {
        const string sql = "SELECT value, is_nan, timestamp, step FROM metrics WHERE run_key = @p0 AND key = @p1 AND id BETWEEN @p2 AND @p3 ORDER BY id";
        var steps = new List<long>();
        var values = new List<double>();
        var timestamps = new List<long>();
        await using var connection = await _db.OpenAsync(ct).ConfigureAwait(false);
        if (connection is SqliteConnection sqlite)
        {
            var db = sqlite.Handle!;
            Check(db, raw.sqlite3_prepare_v2(db, sql, out sqlite3_stmt select));
            using (select)
            {
                raw.sqlite3_bind_int64(select, 1, runKey);
                raw.sqlite3_bind_text(select, 2, key);
                raw.sqlite3_bind_int64(select, 3, fromId);
                raw.sqlite3_bind_int64(select, 4, toId);
                int rc;
                while ((rc = raw.sqlite3_step(select)) == raw.SQLITE_ROW)
                {
                    values.Add(raw.sqlite3_column_int(select, 1) != 0 ? double.NaN : raw.sqlite3_column_double(select, 0));
                    timestamps.Add(raw.sqlite3_column_int64(select, 2));
                    steps.Add(raw.sqlite3_column_int64(select, 3));
                }

                Check(db, rc);
            }
        }
        else
        {
            await using var cmd = ReadCommand(connection, sql, runKey, key, fromId, toId);
            await using var reader = await cmd.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var v = reader.GetDouble(0);
                values.Add(reader.GetInt16(1) != 0 ? double.NaN : v);
                timestamps.Add(reader.GetInt64(2));
                steps.Add(reader.GetInt64(3));
            }
        }

        return new MetricColumns([.. steps], [.. values], [.. timestamps]);
    }

    public async Task<IReadOnlyList<RunMetric>> GetMetricHistoryBulkIntervalAsync(
        IReadOnlyList<string> runIds, string key, long? startStep, long? endStep, int maxResults, CancellationToken ct = default)
    {
        var result = new List<RunMetric>();
        await using var connection = await _db.OpenAsync(ct).ConfigureAwait(false);
        foreach (var runId in runIds.Distinct())
        {
            var steps = new List<long>();
            await using (var cmd = ReadCommand(connection,
                "SELECT DISTINCT step FROM metrics WHERE run_key = (SELECT run_key FROM runs WHERE run_uuid = @p0) AND key = @p1 AND step >= @p2 AND step <= @p3 ORDER BY step",
                runId, key, startStep ?? long.MinValue, endStep ?? long.MaxValue))
            await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    steps.Add(reader.GetInt64(0));
                }
            }

            if (steps.Count == 0)
            {
                continue;
            }

            var chosen = SampleSteps(steps, maxResults);
            var (inSql, inArg) = InList("step", chosen);
            await using (var cmd = ReadInCommand(connection,
                $"SELECT key, value, is_nan, timestamp, step FROM metrics WHERE run_key = (SELECT run_key FROM runs WHERE run_uuid = @p0) AND key = @p1 AND {inSql} ORDER BY step, timestamp, id",
                inArg, runId, key))
            await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    var m = ReadMetric(reader, 0);
                    result.Add(new RunMetric(runId, m.Key, m.Value, m.Timestamp, m.Step));
                }
            }
        }

        return result;
    }

    /// <summary>Evenly spaced steps, at most about <paramref name="maxResults"/>, always with the first and last.</summary>
    internal static List<long> SampleSteps(List<long> steps, int maxResults)
    {
        if (steps.Count <= maxResults)
        {
            return steps;
        }

        var stride = Math.Max(1, steps.Count / maxResults);
        var chosen = new List<long>(maxResults + 2);
        for (var i = 0; i < steps.Count; i += stride)
        {
            chosen.Add(steps[i]);
        }

        if (chosen[^1] != steps[^1])
        {
            chosen.Add(steps[^1]);
        }

        return chosen;
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>
    /// PostgreSQL plans search joins from table statistics, which autovacuum gathers only after
    /// large changes: a freshly filled experiment is planned as if empty (nested loops re-scanning
    /// indexes, ~10x slower). So once the run count has grown by a fifth (and at least 200) since
    /// the last time, the search tables are analysed in the background, one pass at a time.
    /// </summary>
    private void RefreshStatisticsIfGrown()
    {
        if (_db.Dialect != SqlDialect.Postgres)
        {
            return;
        }

        var grown = Interlocked.Increment(ref _runsSinceAnalyze);
        if (grown < Math.Max(200, Volatile.Read(ref _runsAtLastAnalyze) / 5) || Interlocked.Exchange(ref _analyzing, 1) == 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await using var connection = await _db.OpenAsync().ConfigureAwait(false);
                await using var cmd = ReadCommand(connection, "ANALYZE runs, latest_metrics, params, tags");
                await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
                Interlocked.Add(ref _runsAtLastAnalyze, Interlocked.Exchange(ref _runsSinceAnalyze, 0));
            }
            catch (Exception ex) when (ex is DbException or ObjectDisposedException or InvalidOperationException)
            {
                // Statistics are an optimisation; a failed pass is retried after more growth.
            }
            finally
            {
                Volatile.Write(ref _analyzing, 0);
            }
        });
    }

    /// <summary>
    /// "column IN (list)" with the whole list in one parameter (@ids): a JSON array on SQLite,
    /// an array on PostgreSQL, so a statement's text does not vary with the list's length.
    /// </summary>
    private (string Sql, object Arg) InList<T>(string column, IReadOnlyList<T> values) =>
        _db.Dialect == SqlDialect.Postgres
            ? ($"{column} = ANY(@ids)", values.ToArray())
            : ($"{column} IN (SELECT value FROM json_each(@ids))", JsonSerializer.Serialize(values));

    private static DbCommand ReadCommand(DbConnection connection, string sql, params object?[] args)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        SqlCommands.AddPositional(cmd, args);
        return cmd;
    }

    /// <summary>A read command whose <c>@ids</c> parameter holds a list made by <see cref="InList"/>.</summary>
    private static DbCommand ReadInCommand(DbConnection connection, string sql, object ids, params object?[] args)
    {
        var cmd = ReadCommand(connection, sql, args);
        SqlCommands.Add(cmd, "@ids", ids);
        return cmd;
    }

    private static DbCommand ReadCommand(DbConnection connection, SqlQuery query)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = query.Sql;
        SqlCommands.AddAll(cmd, query.Parameters);
        return cmd;
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync().ConfigureAwait(false);
        if (_checkpointer is not null)
        {
            await _checkpointer.DisposeAsync().ConfigureAwait(false);
        }

        await _db.DisposeAsync().ConfigureAwait(false);
    }
}
