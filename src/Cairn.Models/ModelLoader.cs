using System.Text.Json.Nodes;
using Cairn.Client;
using Cairn.Client.Artifacts;
using Cairn.Core;
using Cairn.Core.Registry;
using Microsoft.ML;

namespace Cairn.Models;

/// <summary>What <see cref="ModelRunExtensions.LogModelAsync"/> logged: where the package is and the version it registered.</summary>
/// <param name="ModelUri">The package as a <c>runs:/&lt;run&gt;/&lt;path&gt;</c> URI.</param>
/// <param name="ArtifactUri">The package's concrete artifact location (registered as the version's source).</param>
public sealed record LoggedModel(string ModelUri, string ArtifactUri, ModelFile Model, ModelVersion? RegisteredVersion);

/// <summary>Loading model packages: from a local folder, or from any model URI through the tracking server.</summary>
public static class ModelLoader
{
    /// <summary>Loads the package in a local folder with the first flavor Cairn can load (<c>mlnet</c>, then <c>onnx</c>).</summary>
    public static IModelPredictor Load(string packageDir)
    {
        var file = ModelFile.Read(packageDir);
        if (file.Flavors.ContainsKey(MLNetFlavor.Name))
        {
            return MLNetFlavor.Load(packageDir);
        }

        if (file.Flavors.ContainsKey(OnnxFlavor.Name))
        {
            return OnnxFlavor.Load(packageDir);
        }

        throw new InvalidModelPackageException(
            $"The model at '{packageDir}' has no flavor Cairn can load (supported: {MLNetFlavor.Name}, {OnnxFlavor.Name}); it has: {string.Join(", ", file.Flavors.Keys)}.");
    }

    /// <summary>
    /// Resolves a model URI (<c>runs:/</c>, <c>models:/name/1</c>, <c>models:/name@alias</c>,
    /// <c>models:/name/Staging</c>, <c>mlflow-artifacts:/</c>, <c>file:</c>, a path) against the SDK's
    /// tracking URI, downloads the package if it is remote and loads it.
    /// </summary>
    public static async Task<IModelPredictor> LoadAsync(string uri, CancellationToken ct = default)
    {
        // A package on disk needs no tracking server (nor a configured tracking URI).
        if (ModelUri.Parse(uri) is ModelUri.Local local)
        {
            return Load(ModelUriResolver.LocalFolder(local.Path, uri));
        }

        await using var resolver = new ModelUriResolver(await Tracking.GetClientAsync(ct).ConfigureAwait(false));
        return await LoadAsync(uri, resolver, ct).ConfigureAwait(false);
    }

    /// <summary>As <see cref="LoadAsync(string, CancellationToken)"/> with an explicit resolver (tracking server, registry).</summary>
    public static async Task<IModelPredictor> LoadAsync(string uri, ModelUriResolver resolver, CancellationToken ct = default)
    {
        var resolved = await resolver.DownloadAsync(uri, null, ct).ConfigureAwait(false);
        return Load(resolved.LocalPath);
    }
}

/// <summary>Logging model packages from a run.</summary>
public static class ModelRunExtensions
{
    /// <summary>
    /// Saves an ML.NET model as a package (model.zip, MLmodel with a signature inferred from
    /// <paramref name="trainingData"/>, input example, dotnet_env.yaml), uploads it under the run's
    /// artifacts at <paramref name="artifactPath"/>, records it in the run's logged-model history and,
    /// with <paramref name="registeredModelName"/>, registers it as a new version of that model
    /// (creating the model if needed).
    /// </summary>
    /// <param name="registry">The registry to register in; by default the tracking server's.</param>
    public static Task<LoggedModel> LogModelAsync(
        this ActiveRun run,
        ITransformer model,
        IDataView trainingData,
        string artifactPath = "model",
        string? registeredModelName = null,
        MLNetSaveOptions? options = null,
        IModelRegistryStore? registry = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainingData);
        return LogPackageAsync(run, artifactPath, registeredModelName, registry,
            (dir, path) => MLNetFlavor.Save(dir, model, trainingData, (options ?? new MLNetSaveOptions()) with { ArtifactPath = path, RunId = run.RunId }), ct);
    }

    /// <summary>
    /// Saves an ONNX model as a package (model.onnx, MLmodel with the <c>onnx</c> flavor and a signature
    /// inferred from the graph when not given, input example, dotnet_env.yaml) and logs it as
    /// <see cref="LogModelAsync"/> does: uploaded under <paramref name="artifactPath"/>, recorded in the
    /// run's logged-model history and, with <paramref name="registeredModelName"/>, registered.
    /// </summary>
    /// <exception cref="ArgumentException">The bytes are not a loadable ONNX model, or the signature or example does not fit it.</exception>
    public static Task<LoggedModel> LogOnnxModelAsync(
        this ActiveRun run,
        byte[] onnxModel,
        string artifactPath = "model",
        ModelSignature? signature = null,
        InputExample? inputExample = null,
        string? registeredModelName = null,
        OnnxSaveOptions? options = null,
        IModelRegistryStore? registry = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(onnxModel);
        return LogPackageAsync(run, artifactPath, registeredModelName, registry,
            (dir, path) => OnnxFlavor.Save(dir, onnxModel, signature, inputExample, (options ?? new OnnxSaveOptions()) with { ArtifactPath = path, RunId = run.RunId }), ct);
    }

    /// <summary>Saves a package with <paramref name="save"/> (folder, artifact path) into a temporary folder, uploads, records and registers it.</summary>
    private static async Task<LoggedModel> LogPackageAsync(
        ActiveRun run, string artifactPath, string? registeredModelName, IModelRegistryStore? registry, Func<string, string, ModelFile> save, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(run);
        artifactPath = ArtifactLocations.Relative(artifactPath);
        var dir = Directory.CreateTempSubdirectory("cairn-package-").FullName;
        try
        {
            var file = save(dir, artifactPath);
            await run.LogArtifactsAsync(dir, artifactPath, ct).ConfigureAwait(false);
            await run.Client.RecordLoggedModelAsync(run.RunId, HistoryEntry(file), ct).ConfigureAwait(false);

            var artifactUri = ArtifactLocations.Join(run.ArtifactUri, artifactPath);
            ModelVersion? version = null;
            if (registeredModelName is not null)
            {
                version = await RegisterAsync(run, registeredModelName, artifactUri, registry, ct).ConfigureAwait(false);
            }

            return new LoggedModel($"runs:/{run.RunId}/{artifactPath}", artifactUri, file, version);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<ModelVersion> RegisterAsync(ActiveRun run, string name, string source, IModelRegistryStore? registry, CancellationToken ct)
    {
        var owned = registry is null ? new ModelUriResolver(run.Client) : null;
        try
        {
            var store = registry ?? owned!.Registry ?? throw new InvalidOperationException(
                $"Registering '{name}' needs a model registry, but the tracking store '{run.Client.TrackingUri}' is not a server; pass one as 'registry'.");
            try
            {
                await store.CreateRegisteredModelAsync(name, [], null, ct).ConfigureAwait(false);
            }
            catch (MlflowException e) when (e.Code == ErrorCode.ResourceAlreadyExists)
            {
                // Registering a new version of an existing model.
            }

            return await store.CreateModelVersionAsync(new NewModelVersion(name, source, run.RunId), ct).ConfigureAwait(false);
        }
        finally
        {
            if (owned is not null)
            {
                await owned.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The entry MLflow's log-model call records in the run's <c>mlflow.log-model.history</c> tag.</summary>
    private static JsonObject HistoryEntry(ModelFile file)
    {
        var entry = new JsonObject
        {
            ["run_id"] = file.RunId,
            ["artifact_path"] = file.ArtifactPath,
            ["utc_time_created"] = file.UtcTimeCreated,
            ["model_uuid"] = file.ModelUuid,
            ["flavors"] = ToJson(file.Flavors.ToDictionary(f => f.Key, f => (object?)f.Value)),
        };
        if (file.Signature is { } sig)
        {
            entry["signature"] = new JsonObject
            {
                ["inputs"] = ModelSignature.ColumnsJson(sig.Inputs),
                ["outputs"] = sig.Outputs is null ? null : ModelSignature.ColumnsJson(sig.Outputs),
                ["params"] = sig.Params is null ? null : ModelSignature.ParamsJson(sig.Params),
            };
        }

        if (file.SavedInputExampleInfo is { } ex)
        {
            entry["saved_input_example_info"] = new JsonObject { ["artifact_path"] = ex.ArtifactPath, ["type"] = ex.Type, ["pandas_orient"] = ex.PandasOrient, ["serving_input_path"] = ex.ServingInputPath };
        }

        return entry;
    }

    private static JsonNode? ToJson(object? value) => value switch
    {
        IEnumerable<KeyValuePair<string, object?>> map => new JsonObject(map.Select(kv => KeyValuePair.Create(kv.Key, ToJson(kv.Value)))),
        IEnumerable<object?> list when value is not string => new JsonArray(list.Select(ToJson).ToArray()),
        _ => RowValues.ToJson(value),
    };
}
