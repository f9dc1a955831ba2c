using Cairn.Core;
using Cairn.Core.Artifacts;
using Cairn.Core.Registry;
using Cairn.Server.Http;
using Cairn.Storage.Artifacts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static Cairn.Server.Endpoints.EndpointMapping;

namespace Cairn.Server.Endpoints;

/// <summary>
/// MLflow's model registry API: registered models, model versions, stages, tags and aliases, with
/// MLflow's HTTP methods per route (GET reads, POST creates and acts, PATCH updates, DELETE deletes),
/// plus the web UI's <c>/model-versions/get-artifact</c>.
/// </summary>
public static class RegistryEndpoints
{
    private static readonly string[] Patch = ["PATCH"];
    private static readonly string[] Delete = ["DELETE"];

    public static void MapRegistry(this IEndpointRouteBuilder app)
    {
        app.MapMlflow("/registered-models/create", Post, CreateRegisteredModel);
        app.MapMlflow("/registered-models/get", Get, GetRegisteredModel);
        app.MapMlflow("/registered-models/rename", Post, RenameRegisteredModel);
        app.MapMlflow("/registered-models/update", Patch, UpdateRegisteredModel);
        app.MapMlflow("/registered-models/delete", Delete, DeleteRegisteredModel);
        app.MapMlflow("/registered-models/search", Get, SearchRegisteredModels);
        app.MapMlflow("/registered-models/set-tag", Post, SetRegisteredModelTag);
        app.MapMlflow("/registered-models/delete-tag", Delete, DeleteRegisteredModelTag);
        app.MapMlflow("/registered-models/get-latest-versions", GetOrPost, GetLatestVersions);
        app.MapMlflow("/registered-models/alias", Post, SetAlias);
        app.MapMlflow("/registered-models/alias", Delete, DeleteAlias);
        app.MapMlflow("/registered-models/alias", Get, GetModelVersionByAlias);

        app.MapMlflow("/model-versions/create", Post, CreateModelVersion);
        app.MapMlflow("/model-versions/get", Get, GetModelVersion);
        app.MapMlflow("/model-versions/update", Patch, UpdateModelVersion);
        app.MapMlflow("/model-versions/delete", Delete, DeleteModelVersion);
        app.MapMlflow("/model-versions/search", Get, SearchModelVersions);
        app.MapMlflow("/model-versions/set-tag", Post, SetModelVersionTag);
        app.MapMlflow("/model-versions/delete-tag", Delete, DeleteModelVersionTag);
        app.MapMlflow("/model-versions/transition-stage", Post, TransitionStage);
        app.MapMlflow("/model-versions/get-download-uri", Get, GetDownloadUri);
        app.MapGet("/model-versions/get-artifact", context => InvokeAsync(context, GetModelVersionArtifact));
    }

    private static IModelRegistryStore Registry(this HttpContext context) => context.RequestServices.GetRequiredService<IModelRegistryStore>();

    // ------------------------------------------------------------ registered models

    private static async Task CreateRegisteredModel(HttpContext context, RequestArgs args)
    {
        var model = await context.Registry().CreateRegisteredModelAsync(args.RequiredString("name"), args.Tags(), args.String("description"), context.RequestAborted);
        await WriteModelAsync(context, model);
    }

    private static async Task GetRegisteredModel(HttpContext context, RequestArgs args) =>
        await WriteModelAsync(context, await context.Registry().GetRegisteredModelAsync(args.RequiredString("name"), context.RequestAborted));

    private static async Task RenameRegisteredModel(HttpContext context, RequestArgs args)
    {
        var name = args.RequiredString("name");
        var newName = args.RequiredString("new_name");
        await WriteModelAsync(context, await context.Registry().RenameRegisteredModelAsync(name, newName, context.RequestAborted));
    }

    private static async Task UpdateRegisteredModel(HttpContext context, RequestArgs args)
    {
        var name = args.RequiredString("name");
        await WriteModelAsync(context, await context.Registry().UpdateRegisteredModelAsync(name, args.String("description"), context.RequestAborted));
    }

    private static async Task DeleteRegisteredModel(HttpContext context, RequestArgs args)
    {
        await context.Registry().DeleteRegisteredModelAsync(args.RequiredString("name"), context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static Task WriteModelAsync(HttpContext context, RegisteredModel model) => Responses.WriteJsonAsync(context, w =>
    {
        w.WriteStartObject();
        w.WritePropertyName("registered_model");
        RegistryJson.WriteRegisteredModel(w, model);
        w.WriteEndObject();
    });

    private static async Task SearchRegisteredModels(HttpContext context, RequestArgs args)
    {
        var query = new RegisteredModelSearchQuery(
            args.String("filter"), args.Int("max_results") ?? RegistryLimits.DefaultRegisteredModelResults, args.StringList("order_by"), args.String("page_token"));
        var page = await context.Registry().SearchRegisteredModelsAsync(query, context.RequestAborted);
        await WritePageAsync(context, "registered_models", page, RegistryJson.WriteRegisteredModel);
    }

    private static Task WritePageAsync<T>(HttpContext context, string name, Page<T> page, Action<System.Text.Json.Utf8JsonWriter, T> write) =>
        Responses.WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            if (page.Items.Count > 0)
            {
                w.WriteStartArray(name);
                foreach (var item in page.Items)
                {
                    write(w, item);
                }

                w.WriteEndArray();
            }

            if (page.NextPageToken is not null)
            {
                w.WriteString("next_page_token", page.NextPageToken);
            }

            w.WriteEndObject();
        });

    private static async Task SetRegisteredModelTag(HttpContext context, RequestArgs args)
    {
        var name = args.RequiredString("name");
        var tag = new Tag(args.RequiredString("key"), args.String("value") ?? "");
        await context.Registry().SetRegisteredModelTagAsync(name, tag, context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task DeleteRegisteredModelTag(HttpContext context, RequestArgs args)
    {
        var name = args.RequiredString("name");
        await context.Registry().DeleteRegisteredModelTagAsync(name, args.RequiredString("key"), context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task GetLatestVersions(HttpContext context, RequestArgs args)
    {
        var versions = await context.Registry().GetLatestVersionsAsync(args.RequiredString("name"), args.StringList("stages"), context.RequestAborted);
        await WriteVersionsAsync(context, versions);
    }

    private static Task WriteVersionsAsync(HttpContext context, IReadOnlyList<ModelVersion> versions) =>
        WritePageAsync(context, "model_versions", new Page<ModelVersion>(versions, null), RegistryJson.WriteModelVersion);

    // ------------------------------------------------------------ aliases

    private static async Task SetAlias(HttpContext context, RequestArgs args)
    {
        var name = args.RequiredString("name");
        var alias = args.RequiredString("alias");
        var version = args.RequiredString("version");
        await context.Registry().SetRegisteredModelAliasAsync(name, alias, version, context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task DeleteAlias(HttpContext context, RequestArgs args)
    {
        var name = args.RequiredString("name");
        await context.Registry().DeleteRegisteredModelAliasAsync(name, args.RequiredString("alias"), context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task GetModelVersionByAlias(HttpContext context, RequestArgs args)
    {
        var name = args.RequiredString("name");
        await WriteVersionAsync(context, await context.Registry().GetModelVersionByAliasAsync(name, args.RequiredString("alias"), context.RequestAborted));
    }

    // ------------------------------------------------------------ model versions

    private static async Task CreateModelVersion(HttpContext context, RequestArgs args)
    {
        var name = args.RequiredString("name");
        var source = args.RequiredString("source");
        var runId = args.String("run_id");
        var tags = args.Tags();
        await ValidateSourceAsync(context, source, runId);
        var version = new NewModelVersion(name, source, runId, tags, args.String("run_link"), args.String("description"));
        await WriteVersionAsync(context, await context.Registry().CreateModelVersionAsync(version, context.RequestAborted));
    }

    /// <summary>
    /// MLflow's rules for a version's source, checked by the server because they need the run: a
    /// local path must lie inside the artifact folder of the run named by run_id; any other URI
    /// must have an absolute path with no relative references, so it cannot point elsewhere.
    /// </summary>
    private static async Task ValidateSourceAsync(HttpContext context, string source, string? runId)
    {
        if (!RegistryValidation.IsLocalSource(source))
        {
            RegistryValidation.ValidateRemoteSource(source);
            return;
        }

        var path = Path.GetFullPath(RegistryValidation.LocalPath(source));
        if (!string.IsNullOrEmpty(runId))
        {
            var run = await context.Store().GetRunAsync(runId, context.RequestAborted);
            var root = run.Info.ArtifactUri;
            if (RegistryValidation.IsLocalSource(root))
            {
                var runDir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(RegistryValidation.LocalPath(root)));
                if (path == runDir || path.StartsWith(runDir + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    return;
                }
            }
        }

        throw RegistryValidation.LocalSourceOutsideRun(path);
    }

    private static async Task GetModelVersion(HttpContext context, RequestArgs args)
    {
        var (name, version) = NameAndVersion(args);
        await WriteVersionAsync(context, await context.Registry().GetModelVersionAsync(name, version, context.RequestAborted));
    }

    private static async Task UpdateModelVersion(HttpContext context, RequestArgs args)
    {
        var (name, version) = NameAndVersion(args);
        await WriteVersionAsync(context, await context.Registry().UpdateModelVersionAsync(name, version, args.String("description"), context.RequestAborted));
    }

    private static async Task DeleteModelVersion(HttpContext context, RequestArgs args)
    {
        var (name, version) = NameAndVersion(args);
        await context.Registry().DeleteModelVersionAsync(name, version, context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task TransitionStage(HttpContext context, RequestArgs args)
    {
        var (name, version) = NameAndVersion(args);
        var stage = args.RequiredString("stage");
        var archive = args.Bool("archive_existing_versions") ?? false;
        await WriteVersionAsync(context, await context.Registry().TransitionModelVersionStageAsync(name, version, stage, archive, context.RequestAborted));
    }

    private static async Task SearchModelVersions(HttpContext context, RequestArgs args)
    {
        var query = new ModelVersionSearchQuery(
            args.String("filter"), args.Int("max_results") ?? RegistryLimits.DefaultModelVersionResults, args.StringList("order_by"), args.String("page_token"));
        var page = await context.Registry().SearchModelVersionsAsync(query, context.RequestAborted);
        await WritePageAsync(context, "model_versions", page, RegistryJson.WriteModelVersion);
    }

    private static async Task SetModelVersionTag(HttpContext context, RequestArgs args)
    {
        var (name, version) = NameAndVersion(args);
        var tag = new Tag(args.RequiredString("key"), args.String("value") ?? "");
        await context.Registry().SetModelVersionTagAsync(name, version, tag, context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task DeleteModelVersionTag(HttpContext context, RequestArgs args)
    {
        var (name, version) = NameAndVersion(args);
        await context.Registry().DeleteModelVersionTagAsync(name, version, args.RequiredString("key"), context.RequestAborted);
        await Responses.EmptyAsync(context);
    }

    private static async Task GetDownloadUri(HttpContext context, RequestArgs args)
    {
        var (name, version) = NameAndVersion(args);
        var uri = await context.Registry().GetModelVersionDownloadUriAsync(name, version, context.RequestAborted);
        await Responses.WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("artifact_uri", uri);
            w.WriteEndObject();
        });
    }

    /// <summary>A file of a version's model, from wherever its source points (a run's artifacts, the proxy's store, a local folder).</summary>
    private static async Task GetModelVersionArtifact(HttpContext context, RequestArgs args)
    {
        // The path is checked before the version is looked up, so bad input costs no database work.
        var path = ArtifactPaths.Normalize(args.String("path") ?? throw RequestArgs.Missing("path"));
        var (name, version) = NameAndVersion(args);
        var source = (await context.Registry().GetModelVersionAsync(name, version, context.RequestAborted)).Source;
        var repositories = context.RequestServices.GetRequiredService<ArtifactRepositories>();
        IArtifactRepository repository;
        var filePath = path;
        if (source.StartsWith("runs:/", StringComparison.Ordinal))
        {
            // runs:/<run id>/<path in the run's artifacts>
            var rest = source["runs:/".Length..].TrimStart('/');
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var runId = slash < 0 ? rest : rest[..slash];
            var inRun = slash < 0 ? "" : ArtifactPaths.Normalize(rest[(slash + 1)..]);
            var run = await context.Store().GetRunAsync(runId, context.RequestAborted);
            repository = repositories.ForUri(run.Info.ArtifactUri);
            filePath = inRun.Length == 0 ? path : inRun.TrimEnd('/') + "/" + path;
        }
        else
        {
            repository = repositories.ForUri(source);
        }

        var content = await repository.OpenReadAsync(filePath, context.RequestAborted) ?? throw ArtifactEndpoints.MissingArtifact(path);
        await ArtifactEndpoints.SendFileAsync(context, content, path);
    }

    private static (string Name, string Version) NameAndVersion(RequestArgs args) => (args.RequiredString("name"), args.RequiredString("version"));

    private static Task WriteVersionAsync(HttpContext context, ModelVersion version) => Responses.WriteJsonAsync(context, w =>
    {
        w.WriteStartObject();
        w.WritePropertyName("model_version");
        RegistryJson.WriteModelVersion(w, version);
        w.WriteEndObject();
    });
}
