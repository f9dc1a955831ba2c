using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Registry;
using Cairn.Core.Search;

namespace Cairn.Storage.Sql;

/// <summary>
/// The model registry on the tracking store's database (SQLite or PostgreSQL, schema migration 2).
/// Reads use pooled connections; every write goes through the database's one <see cref="WriteQueue"/>,
/// shared with the tracking store, so the database still has a single writer.
/// </summary>
public sealed class SqlModelRegistryStore : IModelRegistryStore
{
    private const string VersionColumns = RegistrySearchSql.ModelVersionColumns;
    private const string VersionFrom = "model_versions v JOIN registered_models m ON m.model_id = v.model_id";

    private readonly SqlDatabase _db;
    private readonly WriteQueue _writer;

    private SqlModelRegistryStore(SqlDatabase db, WriteQueue writer)
    {
        _db = db;
        _writer = writer;
    }

    /// <summary>The registry in <paramref name="tracking"/>'s database. The tracking store owns the connections and the writer.</summary>
    public static SqlModelRegistryStore On(SqlTrackingStore tracking) => new(tracking.Database, tracking.Writer);

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static MlflowException ModelNotFound(string name) => MlflowException.NotFound($"Registered Model with name={name} not found");

    private static MlflowException VersionNotFound(string name, string version) => MlflowException.NotFound($"Model Version (name={name}, version={version}) not found");

    // ---------------------------------------------------------------- registered models

    public Task<RegisteredModel> CreateRegisteredModelAsync(string name, IReadOnlyList<Tag> tags, string? description, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        foreach (var tag in tags)
        {
            RegistryValidation.ValidateRegisteredModelTag(tag);
        }

        return _writer.WriteAsync(async w =>
        {
            if (await FindModelAsync(w.Connection, w.Transaction, name, ct).ConfigureAwait(false) is not null)
            {
                throw new MlflowException(ErrorCode.ResourceAlreadyExists, $"Registered Model (name={name}) already exists.");
            }

            var now = Now();
            long id;
            await using (var insert = w.Command(
                "INSERT INTO registered_models (name, creation_time, last_updated_time, description, next_version) VALUES (@p0, @p1, @p1, @p2, 1) RETURNING model_id",
                name, now, NullIfEmpty(description)))
            {
                id = Convert.ToInt64(await insert.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
            }

            foreach (var tag in tags)
            {
                await UpsertModelTagAsync(w, id, tag).ConfigureAwait(false);
            }

            return (await LoadModelsAsync(w.Connection, w.Transaction, [id], ct).ConfigureAwait(false))[0];
        }, ct);
    }

    public async Task<RegisteredModel> GetRegisteredModelAsync(string name, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        await using var connection = await _db.OpenAsync(ct).ConfigureAwait(false);
        var id = await FindModelAsync(connection, null, name, ct).ConfigureAwait(false) ?? throw ModelNotFound(name);
        return (await LoadModelsAsync(connection, null, [id], ct).ConfigureAwait(false))[0];
    }

    public Task<RegisteredModel> RenameRegisteredModelAsync(string name, string newName, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        if (string.IsNullOrEmpty(newName))
        {
            throw MlflowException.InvalidParameter(Validation.MissingParameterMessage("new_name"));
        }

        return _writer.WriteAsync(async w =>
        {
            var id = await RequireModelAsync(w, name, ct).ConfigureAwait(false);
            if (await FindModelAsync(w.Connection, w.Transaction, newName, ct).ConfigureAwait(false) is { } other && other != id)
            {
                throw new MlflowException(ErrorCode.ResourceAlreadyExists, $"Registered Model (name={newName}) already exists.");
            }

            // MLflow stamps the versions too: each carries the model's name, which just changed.
            var now = Now();
            await w.ExecAsync("UPDATE registered_models SET name = @p0, last_updated_time = @p1 WHERE model_id = @p2", newName, now, id).ConfigureAwait(false);
            await w.ExecAsync("UPDATE model_versions SET last_updated_time = @p0 WHERE model_id = @p1", now, id).ConfigureAwait(false);
            return (await LoadModelsAsync(w.Connection, w.Transaction, [id], ct).ConfigureAwait(false))[0];
        }, ct);
    }

    public Task<RegisteredModel> UpdateRegisteredModelAsync(string name, string? description, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        return _writer.WriteAsync(async w =>
        {
            var id = await RequireModelAsync(w, name, ct).ConfigureAwait(false);
            await w.ExecAsync("UPDATE registered_models SET description = @p0, last_updated_time = @p1 WHERE model_id = @p2", NullIfEmpty(description), Now(), id).ConfigureAwait(false);
            return (await LoadModelsAsync(w.Connection, w.Transaction, [id], ct).ConfigureAwait(false))[0];
        }, ct);
    }

    /// <summary>Deletes children first: SQLite enforces no foreign keys on these connections, so nothing cascades by itself.</summary>
    public Task DeleteRegisteredModelAsync(string name, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        return _writer.WriteAsync(async w =>
        {
            var id = await RequireModelAsync(w, name, ct).ConfigureAwait(false);
            await w.ExecAsync("DELETE FROM registered_model_aliases WHERE model_id = @p0", id).ConfigureAwait(false);
            await w.ExecAsync("DELETE FROM model_version_tags WHERE model_id = @p0", id).ConfigureAwait(false);
            await w.ExecAsync("DELETE FROM model_versions WHERE model_id = @p0", id).ConfigureAwait(false);
            await w.ExecAsync("DELETE FROM registered_model_tags WHERE model_id = @p0", id).ConfigureAwait(false);
            await w.ExecAsync("DELETE FROM registered_models WHERE model_id = @p0", id).ConfigureAwait(false);
        }, ct);
    }

    public async Task<Page<RegisteredModel>> SearchRegisteredModelsAsync(RegisteredModelSearchQuery query, CancellationToken ct = default)
    {
        ValidateMaxResults(query.MaxResults, RegistryLimits.MaxRegisteredModelResults);
        var filter = RegisteredModelSearchSyntax.ParseFilter(query.Filter);
        var orderBy = RegisteredModelSearchSyntax.ParseOrderBy(query.OrderBy);
        var offset = PageToken.Decode(query.PageToken);

        // One row ahead tells whether another page exists, so a last full page carries no token (as MLflow's).
        var sql = RegistrySearchSql.RegisteredModels(_db.Dialect, filter, orderBy, offset, query.MaxResults + 1);
        await using var connection = await _db.OpenAsync(ct).ConfigureAwait(false);
        var ids = new List<long>();
        await using (var cmd = Command(connection, null, sql))
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

        return new Page<RegisteredModel>(await LoadModelsAsync(connection, null, ids, ct).ConfigureAwait(false), next);
    }

    public Task SetRegisteredModelTagAsync(string name, Tag tag, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        RegistryValidation.ValidateRegisteredModelTag(tag);
        return _writer.WriteAsync(async w =>
        {
            var id = await RequireModelAsync(w, name, ct).ConfigureAwait(false);
            await UpsertModelTagAsync(w, id, tag).ConfigureAwait(false);
        }, ct);
    }

    public Task DeleteRegisteredModelTagAsync(string name, string key, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        ValidateTagKey(key);
        return _writer.WriteAsync(async w =>
        {
            var id = await RequireModelAsync(w, name, ct).ConfigureAwait(false);
            await w.ExecAsync("DELETE FROM registered_model_tags WHERE model_id = @p0 AND key = @p1", id, key).ConfigureAwait(false);
        }, ct);
    }

    public async Task<IReadOnlyList<ModelVersion>> GetLatestVersionsAsync(string name, IReadOnlyList<string> stages, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        await using var connection = await _db.OpenAsync(ct).ConfigureAwait(false);
        var id = await FindModelAsync(connection, null, name, ct).ConfigureAwait(false) ?? throw ModelNotFound(name);
        var wanted = stages.Count == 0 ? ModelStages.All : stages.Select(ModelStages.Canonical).ToList();
        var latest = await LoadLatestVersionsAsync(connection, null, [id], ct).ConfigureAwait(false);
        return latest.TryGetValue(id, out var versions) ? versions.Where(v => wanted.Contains(v.CurrentStage)).ToList() : [];
    }

    // ---------------------------------------------------------------- aliases

    public Task SetRegisteredModelAliasAsync(string name, string alias, string version, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        RegistryValidation.ValidateAlias(alias);
        var number = RegistryValidation.ParseVersion(version);
        return _writer.WriteAsync(async w =>
        {
            var id = await RequireVersionAsync(w, name, number, version, ct).ConfigureAwait(false);

            // The primary key (model, alias) keeps one row per alias: setting it again moves it.
            await w.ExecAsync(
                "INSERT INTO registered_model_aliases (model_id, alias, version) VALUES (@p0, @p1, @p2) ON CONFLICT (model_id, alias) DO UPDATE SET version = excluded.version",
                id, alias, number).ConfigureAwait(false);
        }, ct);
    }

    public Task DeleteRegisteredModelAliasAsync(string name, string alias, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        RegistryValidation.ValidateAlias(alias);
        return _writer.WriteAsync(w => w.ExecAsync(
            "DELETE FROM registered_model_aliases WHERE alias = @p1 AND model_id IN (SELECT model_id FROM registered_models WHERE name = @p0)", name, alias), ct);
    }

    public async Task<ModelVersion> GetModelVersionByAliasAsync(string name, string alias, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        RegistryValidation.ValidateAlias(alias);
        await using var connection = await _db.OpenAsync(ct).ConfigureAwait(false);
        long version;
        await using (var cmd = Command(connection, null,
            "SELECT a.version FROM registered_model_aliases a JOIN registered_models m ON m.model_id = a.model_id WHERE m.name = @p0 AND a.alias = @p1", name, alias))
        {
            // MLflow answers a missing alias with 400, not 404.
            var found = await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
            version = found is null or DBNull
                ? throw MlflowException.InvalidParameter($"Registered model alias {alias} not found.")
                : Convert.ToInt64(found, CultureInfo.InvariantCulture);
        }

        return await LoadVersionAsync(connection, null, name, version, withAliases: true, ct).ConfigureAwait(false)
            ?? throw VersionNotFound(name, version.ToString(CultureInfo.InvariantCulture));
    }

    // ---------------------------------------------------------------- model versions

    public Task<ModelVersion> CreateModelVersionAsync(NewModelVersion version, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(version.Name);
        if (string.IsNullOrEmpty(version.Source))
        {
            throw MlflowException.InvalidParameter(Validation.MissingParameterMessage("source"));
        }

        var tags = version.Tags ?? [];
        foreach (var tag in tags)
        {
            RegistryValidation.ValidateModelVersionTag(tag);
        }

        return _writer.WriteAsync(async w =>
        {
            var id = await RequireModelAsync(w, version.Name, ct).ConfigureAwait(false);
            long number;
            await using (var next = w.Command("SELECT next_version FROM registered_models WHERE model_id = @p0", id))
            {
                number = Convert.ToInt64(await next.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
            }

            var now = Now();
            await w.ExecAsync("UPDATE registered_models SET next_version = @p0, last_updated_time = @p1 WHERE model_id = @p2", number + 1, now, id).ConfigureAwait(false);
            await w.ExecAsync(
                "INSERT INTO model_versions (model_id, version, creation_time, last_updated_time, description, current_stage, source, run_id, run_link, status) " +
                "VALUES (@p0, @p1, @p2, @p2, @p3, @p4, @p5, @p6, @p7, @p8)",
                id, number, now, version.Description ?? "", ModelStages.None, version.Source, version.RunId ?? "", version.RunLink ?? "", ModelVersionStatus.Ready).ConfigureAwait(false);
            foreach (var tag in tags)
            {
                await UpsertVersionTagAsync(w, id, number, tag).ConfigureAwait(false);
            }

            return (await LoadVersionAsync(w.Connection, w.Transaction, version.Name, number, withAliases: true, ct).ConfigureAwait(false))!;
        }, ct);
    }

    public async Task<ModelVersion> GetModelVersionAsync(string name, string version, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        var number = RegistryValidation.ParseVersion(version);
        await using var connection = await _db.OpenAsync(ct).ConfigureAwait(false);
        return await LoadVersionAsync(connection, null, name, number, withAliases: true, ct).ConfigureAwait(false) ?? throw VersionNotFound(name, version);
    }

    public Task<ModelVersion> UpdateModelVersionAsync(string name, string version, string? description, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        var number = RegistryValidation.ParseVersion(version);
        return _writer.WriteAsync(async w =>
        {
            var id = await RequireVersionAsync(w, name, number, version, ct).ConfigureAwait(false);
            await w.ExecAsync("UPDATE model_versions SET description = @p0, last_updated_time = @p1 WHERE model_id = @p2 AND version = @p3",
                description ?? "", Now(), id, number).ConfigureAwait(false);
            return (await LoadVersionAsync(w.Connection, w.Transaction, name, number, withAliases: true, ct).ConfigureAwait(false))!;
        }, ct);
    }

    /// <summary>Removes the version, its tags and its aliases; the model's next number stays, so the number is never reused.</summary>
    public Task DeleteModelVersionAsync(string name, string version, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        var number = RegistryValidation.ParseVersion(version);
        return _writer.WriteAsync(async w =>
        {
            var id = await RequireVersionAsync(w, name, number, version, ct).ConfigureAwait(false);
            await w.ExecAsync("DELETE FROM registered_model_aliases WHERE model_id = @p0 AND version = @p1", id, number).ConfigureAwait(false);
            await w.ExecAsync("DELETE FROM model_version_tags WHERE model_id = @p0 AND version = @p1", id, number).ConfigureAwait(false);
            await w.ExecAsync("DELETE FROM model_versions WHERE model_id = @p0 AND version = @p1", id, number).ConfigureAwait(false);
            await w.ExecAsync("UPDATE registered_models SET last_updated_time = @p0 WHERE model_id = @p1", Now(), id).ConfigureAwait(false);
        }, ct);
    }

    public Task<ModelVersion> TransitionModelVersionStageAsync(string name, string version, string stage, bool archiveExistingVersions, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        var canonical = ModelStages.Canonical(stage);
        if (archiveExistingVersions && !ModelStages.IsActive(canonical))
        {
            throw MlflowException.InvalidParameter(
                $"Model version transition cannot archive existing model versions because '{stage}' is not an Active stage. Valid stages are ['{ModelStages.Staging}', '{ModelStages.Production}']");
        }

        var number = RegistryValidation.ParseVersion(version);
        return _writer.WriteAsync(async w =>
        {
            var id = await RequireVersionAsync(w, name, number, version, ct).ConfigureAwait(false);
            var now = Now();
            if (archiveExistingVersions)
            {
                await w.ExecAsync(
                    "UPDATE model_versions SET current_stage = @p0, last_updated_time = @p1 WHERE model_id = @p2 AND version <> @p3 AND current_stage = @p4",
                    ModelStages.Archived, now, id, number, canonical).ConfigureAwait(false);
            }

            await w.ExecAsync("UPDATE model_versions SET current_stage = @p0, last_updated_time = @p1 WHERE model_id = @p2 AND version = @p3", canonical, now, id, number).ConfigureAwait(false);
            await w.ExecAsync("UPDATE registered_models SET last_updated_time = @p0 WHERE model_id = @p1", now, id).ConfigureAwait(false);
            return (await LoadVersionAsync(w.Connection, w.Transaction, name, number, withAliases: true, ct).ConfigureAwait(false))!;
        }, ct);
    }

    public async Task<Page<ModelVersion>> SearchModelVersionsAsync(ModelVersionSearchQuery query, CancellationToken ct = default)
    {
        ValidateMaxResults(query.MaxResults, RegistryLimits.MaxModelVersionResults);
        var filter = ModelVersionSearchSyntax.ParseFilter(query.Filter);
        var orderBy = ModelVersionSearchSyntax.ParseOrderBy(query.OrderBy);
        var offset = PageToken.Decode(query.PageToken);
        var sql = RegistrySearchSql.ModelVersions(_db.Dialect, filter, orderBy, offset, query.MaxResults + 1);
        await using var connection = await _db.OpenAsync(ct).ConfigureAwait(false);
        var rows = await ReadVersionsAsync(Command(connection, null, sql), ct).ConfigureAwait(false);
        string? next = null;
        if (rows.Count > query.MaxResults)
        {
            rows.RemoveAt(rows.Count - 1);
            next = PageToken.Encode(offset + query.MaxResults);
        }

        return new Page<ModelVersion>(await WithTagsAsync(connection, null, rows, ct).ConfigureAwait(false), next);
    }

    public Task SetModelVersionTagAsync(string name, string version, Tag tag, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        var number = RegistryValidation.ParseVersion(version);
        RegistryValidation.ValidateModelVersionTag(tag);
        return _writer.WriteAsync(async w =>
        {
            var id = await RequireVersionAsync(w, name, number, version, ct).ConfigureAwait(false);
            await UpsertVersionTagAsync(w, id, number, tag).ConfigureAwait(false);
        }, ct);
    }

    public Task DeleteModelVersionTagAsync(string name, string version, string key, CancellationToken ct = default)
    {
        RegistryValidation.ValidateModelName(name);
        var number = RegistryValidation.ParseVersion(version);
        ValidateTagKey(key);
        return _writer.WriteAsync(async w =>
        {
            var id = await RequireVersionAsync(w, name, number, version, ct).ConfigureAwait(false);
            await w.ExecAsync("DELETE FROM model_version_tags WHERE model_id = @p0 AND version = @p1 AND key = @p2", id, number, key).ConfigureAwait(false);
        }, ct);
    }

    public async Task<string> GetModelVersionDownloadUriAsync(string name, string version, CancellationToken ct = default) =>
        (await GetModelVersionAsync(name, version, ct).ConfigureAwait(false)).Source;

    // ---------------------------------------------------------------- helpers

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    private static void ValidateTagKey(string key)
    {
        if (string.IsNullOrEmpty(key))
        {
            throw MlflowException.InvalidParameter(Validation.MissingParameterMessage("key"));
        }

        Validation.ValidateKey(key, "Tag key", "key");
    }

    private static void ValidateMaxResults(int maxResults, int limit)
    {
        if (maxResults <= 0)
        {
            throw MlflowException.InvalidParameter($"Invalid value for max_results. It must be a positive integer, but got {maxResults}");
        }

        if (maxResults > limit)
        {
            throw MlflowException.InvalidParameter($"Invalid value for request parameter max_results. It must be at most {limit}, but got value {maxResults}");
        }
    }

    private static Task UpsertModelTagAsync(WriteContext w, long id, Tag tag) => w.ExecAsync(
        "INSERT INTO registered_model_tags (model_id, key, value) VALUES (@p0, @p1, @p2) ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
        id, tag.Key, tag.Value);

    private static Task UpsertVersionTagAsync(WriteContext w, long id, long version, Tag tag) => w.ExecAsync(
        "INSERT INTO model_version_tags (model_id, version, key, value) VALUES (@p0, @p1, @p2, @p3) ON CONFLICT (model_id, version, key) DO UPDATE SET value = excluded.value",
        id, version, tag.Key, tag.Value);

    private static async Task<long?> FindModelAsync(DbConnection connection, DbTransaction? tx, string name, CancellationToken ct)
    {
        await using var cmd = Command(connection, tx, "SELECT model_id FROM registered_models WHERE name = @p0", name);
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is { } value and not DBNull ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : null;
    }

    private static async Task<long> RequireModelAsync(WriteContext w, string name, CancellationToken ct) =>
        await FindModelAsync(w.Connection, w.Transaction, name, ct).ConfigureAwait(false) ?? throw ModelNotFound(name);

    /// <summary>The model id of an existing version; MLflow names the version (not the model) when either is missing.</summary>
    private static async Task<long> RequireVersionAsync(WriteContext w, string name, long number, string version, CancellationToken ct)
    {
        await using var cmd = w.Command("SELECT v.model_id FROM " + VersionFrom + " WHERE m.name = @p0 AND v.version = @p1", name, number);
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is { } value and not DBNull
            ? Convert.ToInt64(value, CultureInfo.InvariantCulture)
            : throw VersionNotFound(name, version);
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? tx, string sql, params object?[] args)
    {
        var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        SqlCommands.AddPositional(cmd, args);
        return cmd;
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? tx, SqlQuery query)
    {
        var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = query.Sql;
        SqlCommands.AddAll(cmd, query.Parameters);
        return cmd;
    }

    /// <summary>
    /// "column IN (list)" with the whole list in one parameter: a JSON array on SQLite, an array on
    /// PostgreSQL, so the statement's text does not vary with the list's length.
    /// </summary>
    private string InList(string column, string parameter) =>
        _db.Dialect == SqlDialect.Postgres ? $"{column} = ANY({parameter})" : $"{column} IN (SELECT value FROM json_each({parameter}))";

    private object ListArg(IReadOnlyCollection<long> values) =>
        _db.Dialect == SqlDialect.Postgres ? values.ToArray() : JsonSerializer.Serialize(values);

    private sealed record VersionRow(long ModelId, long Number, ModelVersion Version);

    /// <summary>Reads rows of <see cref="VersionColumns"/>; disposes <paramref name="cmd"/>.</summary>
    private static async Task<List<VersionRow>> ReadVersionsAsync(DbCommand cmd, CancellationToken ct)
    {
        var rows = new List<VersionRow>();
        await using (cmd)
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var number = reader.GetInt64(2);
                rows.Add(new VersionRow(reader.GetInt64(1), number, new ModelVersion(
                    Name: reader.GetString(0),
                    Version: number.ToString(CultureInfo.InvariantCulture),
                    CreationTimestamp: reader.GetInt64(3),
                    LastUpdatedTimestamp: reader.GetInt64(4),
                    CurrentStage: reader.GetString(5),
                    Description: reader.GetString(6),
                    Source: reader.GetString(7),
                    RunId: reader.GetString(8),
                    RunLink: reader.GetString(9),
                    Status: reader.GetString(10),
                    Tags: [],
                    Aliases: [])));
            }
        }

        return rows;
    }

    /// <summary>The versions with their tags (two queries in all, however many versions).</summary>
    private async Task<List<ModelVersion>> WithTagsAsync(DbConnection connection, DbTransaction? tx, List<VersionRow> rows, CancellationToken ct)
    {
        if (rows.Count == 0)
        {
            return [];
        }

        var modelIds = rows.Select(r => r.ModelId).Distinct().ToList();
        var numbers = rows.Select(r => r.Number).Distinct().ToList();
        var tags = new Dictionary<(long, long), List<Tag>>();
        await using (var cmd = Command(connection, tx,
            $"SELECT model_id, version, key, value FROM model_version_tags WHERE {InList("model_id", "@ids")} AND {InList("version", "@vs")}"))
        {
            SqlCommands.Add(cmd, "@ids", ListArg(modelIds));
            SqlCommands.Add(cmd, "@vs", ListArg(numbers));
            await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var key = (reader.GetInt64(0), reader.GetInt64(1));
                if (!tags.TryGetValue(key, out var list))
                {
                    tags[key] = list = [];
                }

                list.Add(new Tag(reader.GetString(2), reader.GetString(3)));
            }
        }

        return rows.Select(r => tags.TryGetValue((r.ModelId, r.Number), out var t)
            ? r.Version with { Tags = t.OrderBy(x => x.Key, StringComparer.Ordinal).ToList() }
            : r.Version).ToList();
    }

    private async Task<ModelVersion?> LoadVersionAsync(DbConnection connection, DbTransaction? tx, string name, long number, bool withAliases, CancellationToken ct)
    {
        var rows = await ReadVersionsAsync(Command(connection, tx, $"SELECT {VersionColumns} FROM {VersionFrom} WHERE m.name = @p0 AND v.version = @p1", name, number), ct).ConfigureAwait(false);
        if (rows.Count == 0)
        {
            return null;
        }

        var version = (await WithTagsAsync(connection, tx, rows, ct).ConfigureAwait(false))[0];
        if (!withAliases)
        {
            return version;
        }

        var aliases = new List<string>();
        await using (var cmd = Command(connection, tx, "SELECT alias FROM registered_model_aliases WHERE model_id = @p0 AND version = @p1", rows[0].ModelId, number))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                aliases.Add(reader.GetString(0));
            }
        }

        aliases.Sort(StringComparer.Ordinal);
        return version with { Aliases = aliases };
    }

    /// <summary>
    /// The newest version in each stage, per model. MLflow lists the stages in the order its
    /// version rows first reach them (oldest version first), so stages are ordered by their
    /// lowest version number.
    /// </summary>
    private async Task<Dictionary<long, List<ModelVersion>>> LoadLatestVersionsAsync(DbConnection connection, DbTransaction? tx, IReadOnlyList<long> ids, CancellationToken ct)
    {
        var sql = $"SELECT {VersionColumns} FROM {VersionFrom} JOIN (SELECT model_id, MIN(version) AS first_version, MAX(version) AS last_version " +
            $"FROM model_versions WHERE {InList("model_id", "@ids")} GROUP BY model_id, current_stage) s ON s.model_id = v.model_id AND s.last_version = v.version " +
            "ORDER BY v.model_id, s.first_version";
        var cmd = Command(connection, tx, sql);
        SqlCommands.Add(cmd, "@ids", ListArg(ids));
        var rows = await ReadVersionsAsync(cmd, ct).ConfigureAwait(false);
        var versions = await WithTagsAsync(connection, tx, rows, ct).ConfigureAwait(false);
        var result = new Dictionary<long, List<ModelVersion>>();
        for (var i = 0; i < rows.Count; i++)
        {
            if (!result.TryGetValue(rows[i].ModelId, out var list))
            {
                result[rows[i].ModelId] = list = [];
            }

            list.Add(versions[i]);
        }

        return result;
    }

    /// <summary>Whole registered models (tags, aliases, latest versions) in the order of <paramref name="ids"/>, in four queries.</summary>
    private async Task<List<RegisteredModel>> LoadModelsAsync(DbConnection connection, DbTransaction? tx, IReadOnlyList<long> ids, CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        var idList = ListArg(ids);
        var rows = new Dictionary<long, (string Name, long Created, long Updated, string? Description)>();
        await using (var cmd = Command(connection, tx, $"SELECT model_id, name, creation_time, last_updated_time, description FROM registered_models WHERE {InList("model_id", "@ids")}"))
        {
            SqlCommands.Add(cmd, "@ids", idList);
            await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                rows[reader.GetInt64(0)] = (reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.IsDBNull(4) ? null : reader.GetString(4));
            }
        }

        var tags = await ReadPairsAsync(connection, tx, $"SELECT model_id, key, value FROM registered_model_tags WHERE {InList("model_id", "@ids")}", idList,
            (r) => new Tag(r.GetString(1), r.GetString(2)), ct).ConfigureAwait(false);
        var aliases = await ReadPairsAsync(connection, tx, $"SELECT model_id, alias, version FROM registered_model_aliases WHERE {InList("model_id", "@ids")}", idList,
            (r) => new RegisteredModelAlias(r.GetString(1), r.GetInt64(2).ToString(CultureInfo.InvariantCulture)), ct).ConfigureAwait(false);
        var latest = await LoadLatestVersionsAsync(connection, tx, ids, ct).ConfigureAwait(false);

        var result = new List<RegisteredModel>(ids.Count);
        foreach (var id in ids)
        {
            if (rows.TryGetValue(id, out var r))
            {
                result.Add(new RegisteredModel(r.Name, r.Created, r.Updated, r.Description,
                    latest.TryGetValue(id, out var l) ? l : [],
                    tags.TryGetValue(id, out var t) ? [.. t.OrderBy(x => x.Key, StringComparer.Ordinal)] : [],
                    aliases.TryGetValue(id, out var a) ? [.. a.OrderBy(x => x.Alias, StringComparer.Ordinal)] : []));
            }
        }

        return result;
    }

    private static async Task<Dictionary<long, List<T>>> ReadPairsAsync<T>(DbConnection connection, DbTransaction? tx, string sql, object ids, Func<DbDataReader, T> make, CancellationToken ct)
    {
        var map = new Dictionary<long, List<T>>();
        await using var cmd = Command(connection, tx, sql);
        SqlCommands.Add(cmd, "@ids", ids);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var id = reader.GetInt64(0);
            if (!map.TryGetValue(id, out var list))
            {
                map[id] = list = [];
            }

            list.Add(make(reader));
        }

        return map;
    }
}
