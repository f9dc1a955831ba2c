using System.Text;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Registry;
using static Cairn.Client.Rest.WireJson;

namespace Cairn.Client.Rest;

/// <summary>
/// <see cref="IModelRegistryStore"/> over MLflow's registry REST API, so the same code manages
/// models on a Cairn server or a stock MLflow server. Errors come back as <see cref="MlflowException"/>
/// with the server's error code.
/// </summary>
public sealed class RestModelRegistry : IModelRegistryStore, IDisposable
{
    private readonly MlflowHttp _http;

    public RestModelRegistry(Uri trackingUri, RestOptions? options = null)
    {
        if (trackingUri.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"The REST registry needs an http(s) URI, not '{trackingUri}'.", nameof(trackingUri));
        }

        _http = new MlflowHttp(trackingUri, options ?? new RestOptions());
    }

    public RestModelRegistry(string trackingUri, RestOptions? options = null)
        : this(new Uri(trackingUri), options)
    {
    }

    public void Dispose() => _http.Dispose();

    // ------------------------------------------------------------ registered models

    public async Task<RegisteredModel> CreateRegisteredModelAsync(string name, IReadOnlyList<Tag> tags, string? description, CancellationToken ct = default)
    {
        using var doc = await _http.PostJsonAsync("registered-models/create", w =>
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            WriteTags(w, tags);
            if (description is not null)
            {
                w.WriteString("description", description);
            }

            w.WriteEndObject();
        }, ct).ConfigureAwait(false);
        return Model(doc.RootElement.GetProperty("registered_model"));
    }

    public async Task<RegisteredModel> GetRegisteredModelAsync(string name, CancellationToken ct = default)
    {
        using var doc = await _http.GetJsonAsync("registered-models/get?name=" + Esc(name), ct).ConfigureAwait(false);
        return Model(doc.RootElement.GetProperty("registered_model"));
    }

    public async Task<RegisteredModel> RenameRegisteredModelAsync(string name, string newName, CancellationToken ct = default)
    {
        using var doc = await SendAsync(HttpMethod.Post, "registered-models/rename", w =>
        {
            w.WriteString("name", name);
            w.WriteString("new_name", newName);
        }, ct).ConfigureAwait(false);
        return Model(doc.RootElement.GetProperty("registered_model"));
    }

    public async Task<RegisteredModel> UpdateRegisteredModelAsync(string name, string? description, CancellationToken ct = default)
    {
        using var doc = await SendAsync(HttpMethod.Patch, "registered-models/update", w =>
        {
            w.WriteString("name", name);
            w.WriteString("description", description ?? "");
        }, ct).ConfigureAwait(false);
        return Model(doc.RootElement.GetProperty("registered_model"));
    }

    public Task DeleteRegisteredModelAsync(string name, CancellationToken ct = default) =>
        SendEmptyAsync(HttpMethod.Delete, "registered-models/delete", w => w.WriteString("name", name), ct);

    public async Task<Page<RegisteredModel>> SearchRegisteredModelsAsync(RegisteredModelSearchQuery query, CancellationToken ct = default)
    {
        using var doc = await _http.GetJsonAsync("registered-models/search?" + SearchQuery(query.Filter, query.MaxResults, query.OrderBy, query.PageToken), ct).ConfigureAwait(false);
        return new Page<RegisteredModel>(Array(doc.RootElement, "registered_models").Select(Model).ToList(), OptStr(doc.RootElement, "next_page_token"));
    }

    public Task SetRegisteredModelTagAsync(string name, Tag tag, CancellationToken ct = default) =>
        SendEmptyAsync(HttpMethod.Post, "registered-models/set-tag", w =>
        {
            w.WriteString("name", name);
            w.WriteString("key", tag.Key);
            w.WriteString("value", tag.Value);
        }, ct);

    public Task DeleteRegisteredModelTagAsync(string name, string key, CancellationToken ct = default) =>
        SendEmptyAsync(HttpMethod.Delete, "registered-models/delete-tag", w =>
        {
            w.WriteString("name", name);
            w.WriteString("key", key);
        }, ct);

    public async Task<IReadOnlyList<ModelVersion>> GetLatestVersionsAsync(string name, IReadOnlyList<string> stages, CancellationToken ct = default)
    {
        using var doc = await SendAsync(HttpMethod.Post, "registered-models/get-latest-versions", w =>
        {
            w.WriteString("name", name);
            WriteStrings(w, "stages", stages);
        }, ct).ConfigureAwait(false);
        return Array(doc.RootElement, "model_versions").Select(Version).ToList();
    }

    // ------------------------------------------------------------ aliases

    public Task SetRegisteredModelAliasAsync(string name, string alias, string version, CancellationToken ct = default) =>
        SendEmptyAsync(HttpMethod.Post, "registered-models/alias", w =>
        {
            w.WriteString("name", name);
            w.WriteString("alias", alias);
            w.WriteString("version", version);
        }, ct);

    public Task DeleteRegisteredModelAliasAsync(string name, string alias, CancellationToken ct = default) =>
        SendEmptyAsync(HttpMethod.Delete, "registered-models/alias", w =>
        {
            w.WriteString("name", name);
            w.WriteString("alias", alias);
        }, ct);

    public async Task<ModelVersion> GetModelVersionByAliasAsync(string name, string alias, CancellationToken ct = default)
    {
        using var doc = await _http.GetJsonAsync($"registered-models/alias?name={Esc(name)}&alias={Esc(alias)}", ct).ConfigureAwait(false);
        return Version(doc.RootElement.GetProperty("model_version"));
    }

    // ------------------------------------------------------------ model versions

    public async Task<ModelVersion> CreateModelVersionAsync(NewModelVersion version, CancellationToken ct = default)
    {
        using var doc = await SendAsync(HttpMethod.Post, "model-versions/create", w =>
        {
            w.WriteString("name", version.Name);
            w.WriteString("source", version.Source);
            WriteOptional(w, "run_id", version.RunId);
            WriteOptional(w, "run_link", version.RunLink);
            WriteOptional(w, "description", version.Description);
            WriteTags(w, version.Tags ?? []);
        }, ct).ConfigureAwait(false);
        return Version(doc.RootElement.GetProperty("model_version"));
    }

    public async Task<ModelVersion> GetModelVersionAsync(string name, string version, CancellationToken ct = default)
    {
        using var doc = await _http.GetJsonAsync($"model-versions/get?name={Esc(name)}&version={Esc(version)}", ct).ConfigureAwait(false);
        return Version(doc.RootElement.GetProperty("model_version"));
    }

    public async Task<ModelVersion> UpdateModelVersionAsync(string name, string version, string? description, CancellationToken ct = default)
    {
        using var doc = await SendAsync(HttpMethod.Patch, "model-versions/update", w =>
        {
            w.WriteString("name", name);
            w.WriteString("version", version);
            w.WriteString("description", description ?? "");
        }, ct).ConfigureAwait(false);
        return Version(doc.RootElement.GetProperty("model_version"));
    }

    public Task DeleteModelVersionAsync(string name, string version, CancellationToken ct = default) =>
        SendEmptyAsync(HttpMethod.Delete, "model-versions/delete", w =>
        {
            w.WriteString("name", name);
            w.WriteString("version", version);
        }, ct);

    public async Task<ModelVersion> TransitionModelVersionStageAsync(string name, string version, string stage, bool archiveExistingVersions, CancellationToken ct = default)
    {
        using var doc = await SendAsync(HttpMethod.Post, "model-versions/transition-stage", w =>
        {
            w.WriteString("name", name);
            w.WriteString("version", version);
            w.WriteString("stage", stage);
            w.WriteBoolean("archive_existing_versions", archiveExistingVersions);
        }, ct).ConfigureAwait(false);
        return Version(doc.RootElement.GetProperty("model_version"));
    }

    public async Task<Page<ModelVersion>> SearchModelVersionsAsync(ModelVersionSearchQuery query, CancellationToken ct = default)
    {
        using var doc = await _http.GetJsonAsync("model-versions/search?" + SearchQuery(query.Filter, query.MaxResults, query.OrderBy, query.PageToken), ct).ConfigureAwait(false);
        return new Page<ModelVersion>(Array(doc.RootElement, "model_versions").Select(Version).ToList(), OptStr(doc.RootElement, "next_page_token"));
    }

    public Task SetModelVersionTagAsync(string name, string version, Tag tag, CancellationToken ct = default) =>
        SendEmptyAsync(HttpMethod.Post, "model-versions/set-tag", w =>
        {
            w.WriteString("name", name);
            w.WriteString("version", version);
            w.WriteString("key", tag.Key);
            w.WriteString("value", tag.Value);
        }, ct);

    public Task DeleteModelVersionTagAsync(string name, string version, string key, CancellationToken ct = default) =>
        SendEmptyAsync(HttpMethod.Delete, "model-versions/delete-tag", w =>
        {
            w.WriteString("name", name);
            w.WriteString("version", version);
            w.WriteString("key", key);
        }, ct);

    public async Task<string> GetModelVersionDownloadUriAsync(string name, string version, CancellationToken ct = default)
    {
        using var doc = await _http.GetJsonAsync($"model-versions/get-download-uri?name={Esc(name)}&version={Esc(version)}", ct).ConfigureAwait(false);
        return Str(doc.RootElement, "artifact_uri");
    }

    // ------------------------------------------------------------ wire

    private Task<JsonDocument> SendAsync(HttpMethod method, string path, Action<Utf8JsonWriter> fields, CancellationToken ct) =>
        _http.SendJsonAsync(method, path, w =>
        {
            w.WriteStartObject();
            fields(w);
            w.WriteEndObject();
        }, ct);

    private async Task SendEmptyAsync(HttpMethod method, string path, Action<Utf8JsonWriter> fields, CancellationToken ct)
    {
        using var _ = await SendAsync(method, path, fields, ct).ConfigureAwait(false);
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static string Esc(string value) => Uri.EscapeDataString(value);

    /// <summary>Registry search is GET-only in MLflow, so its parameters travel in the query string.</summary>
    private static string SearchQuery(string? filter, int maxResults, IReadOnlyList<string>? orderBy, string? pageToken)
    {
        var q = new StringBuilder("max_results=").Append(maxResults);
        if (filter is not null)
        {
            q.Append("&filter=").Append(Esc(filter));
        }

        foreach (var o in orderBy ?? [])
        {
            q.Append("&order_by=").Append(Esc(o));
        }

        if (pageToken is not null)
        {
            q.Append("&page_token=").Append(Esc(pageToken));
        }

        return q.ToString();
    }

    private static RegisteredModel Model(JsonElement e) => new(
        Str(e, "name"),
        Long(e, "creation_timestamp"),
        Long(e, "last_updated_timestamp"),
        OptStr(e, "description"),
        Array(e, "latest_versions").Select(Version).ToList(),
        Tags(e),
        Array(e, "aliases").Select(a => new RegisteredModelAlias(Str(a, "alias"), Str(a, "version"))).ToList());

    private static ModelVersion Version(JsonElement e) => new(
        Str(e, "name"),
        Str(e, "version"),
        Long(e, "creation_timestamp"),
        Long(e, "last_updated_timestamp"),
        Str(e, "current_stage", ModelStages.None),
        Str(e, "description"),
        Str(e, "source"),
        Str(e, "run_id"),
        Str(e, "status", ModelVersionStatus.Ready),
        Str(e, "run_link"),
        Tags(e),
        Array(e, "aliases").Select(a => a.GetString() ?? "").ToList());
}
