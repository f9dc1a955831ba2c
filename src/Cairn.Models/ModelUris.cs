using System.Text.RegularExpressions;
using Cairn.Client;
using Cairn.Client.Rest;
using Cairn.Core;
using Cairn.Core.Artifacts;
using Cairn.Core.Registry;

namespace Cairn.Models;

/// <summary>What a model URI points at, parsed but not yet looked up.</summary>
public abstract record ModelUri(string Text)
{
    /// <summary><c>runs:/&lt;run_id&gt;/&lt;path&gt;</c>: a path in a run's artifacts.</summary>
    public sealed record Run(string Text, string RunId, string Path) : ModelUri(Text);

    /// <summary><c>models:/&lt;name&gt;/&lt;version&gt;</c>.</summary>
    public sealed record Version(string Text, string Name, string Number) : ModelUri(Text);

    /// <summary><c>models:/&lt;name&gt;@&lt;alias&gt;</c>.</summary>
    public sealed record Alias(string Text, string Name, string AliasName) : ModelUri(Text);

    /// <summary><c>models:/&lt;name&gt;/&lt;stage&gt;</c>: the newest version in the stage; <c>latest</c> is the newest of all.</summary>
    public sealed record Stage(string Text, string Name, string? StageName) : ModelUri(Text);

    /// <summary><c>mlflow-artifacts:/...</c> (through the tracking server's proxy).</summary>
    public sealed record Artifacts(string Text) : ModelUri(Text);

    /// <summary><c>file:</c> URIs and plain paths.</summary>
    public sealed record Local(string Text, string Path) : ModelUri(Text);

    private static readonly Regex Digits = new("^[0-9]+$", RegexOptions.CultureInvariant);

    /// <summary>Parses a model URI; a malformed one is a 400-style error saying which forms are accepted.</summary>
    public static ModelUri Parse(string uri)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uri);
        var colon = uri.IndexOf(':', StringComparison.Ordinal);
        var scheme = colon > 1 ? uri[..colon].ToLowerInvariant() : null; // "C:\..." is a path, not a scheme
        switch (scheme)
        {
            case null:
                return new Local(uri, System.IO.Path.GetFullPath(uri));
            case "file":
                return new Local(uri, new Uri(uri).LocalPath);
            case "mlflow-artifacts":
                return new Artifacts(uri);
            case "runs":
                {
                    var rest = uri[(colon + 1)..];
                    if (!rest.StartsWith('/') || rest.StartsWith("//", StringComparison.Ordinal))
                    {
                        throw MlflowException.InvalidParameter($"Not a valid runs URI: '{uri}'. Use runs:/<run_id>/<artifact path>.");
                    }

                    var parts = rest.TrimStart('/').Split('/', 2);
                    if (parts[0].Length == 0)
                    {
                        throw MlflowException.InvalidParameter($"Not a valid runs URI: '{uri}': the run id is missing. Use runs:/<run_id>/<artifact path>.");
                    }

                    var path = parts.Length > 1 ? ArtifactPaths.Normalize(parts[1]) : "";
                    return new Run(uri, parts[0], path);
                }

            case "models":
                {
                    var rest = uri[(colon + 1)..];
                    if (!rest.StartsWith('/') || rest.StartsWith("//", StringComparison.Ordinal))
                    {
                        throw BadModelsUri(uri, "registry profiles (models://profile/...) are not supported");
                    }

                    var parts = rest.Trim('/').Split('/');
                    if (parts.Length == 1 && parts[0].LastIndexOf('@') is var at and > 0 && at < parts[0].Length - 1)
                    {
                        return new Alias(uri, parts[0][..at], parts[0][(at + 1)..]);
                    }

                    if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                    {
                        throw BadModelsUri(uri, null);
                    }

                    if (Digits.IsMatch(parts[1]))
                    {
                        return new Version(uri, parts[0], parts[1]);
                    }

                    return parts[1].Equals("latest", StringComparison.OrdinalIgnoreCase)
                        ? new Stage(uri, parts[0], null)
                        : new Stage(uri, parts[0], ModelStages.Canonical(parts[1]));
                }

            default:
                throw MlflowException.InvalidParameter(
                    $"Unsupported model URI '{uri}': use runs:/, models:/, mlflow-artifacts:/, file: or a local path.");
        }
    }

    private static MlflowException BadModelsUri(string uri, string? why) => MlflowException.InvalidParameter(
        $"Not a valid models URI: '{uri}'{(why is null ? "" : " (" + why + ")")}. " +
        "Use models:/<name>/<version>, models:/<name>/<stage>, models:/<name>/latest or models:/<name>@<alias>.");
}

/// <summary>A model URI resolved to a local folder holding the package.</summary>
/// <param name="Source">The artifact location the files came from (a registered version's source, a run's artifact URI...).</param>
/// <param name="Version">The registered version, for <c>models:/</c> URIs.</param>
public sealed record ResolvedModel(string Uri, string LocalPath, string Source, ModelVersion? Version);

/// <summary>
/// The one place model URIs are resolved, for the SDK, the CLI and serving: <c>runs:/</c>,
/// <c>models:/</c> (version, alias, stage, latest), <c>mlflow-artifacts:/</c>, <c>file:</c> and local
/// paths. Remote packages are downloaded through the tracking client's artifact access (the
/// server's proxy or a shared folder); local packages are used where they are.
/// </summary>
public sealed class ModelUriResolver : IAsyncDisposable
{
    private const int MaxIndirections = 5;
    private readonly bool _owns;
    private readonly bool _ownsRegistry;

    public ModelUriResolver(TrackingClient client, IModelRegistryStore? registry = null)
        : this(client, registry, owns: false)
    {
    }

    private ModelUriResolver(TrackingClient client, IModelRegistryStore? registry, bool owns)
    {
        Client = client;
        Registry = registry ?? (TrackingStores.SchemeOf(client.TrackingUri) is "http" or "https" ? new RestModelRegistry(client.TrackingUri, client.Options.Rest) : null);
        _owns = owns;
        _ownsRegistry = registry is null;
    }

    /// <summary>A resolver on <paramref name="trackingUri"/> (or the URI the SDK finds: CAIRN_TRACKING_URI, MLFLOW_TRACKING_URI, config file).</summary>
    public static async Task<ModelUriResolver> ConnectAsync(string? trackingUri = null, CancellationToken ct = default) =>
        new(await TrackingClient.ConnectAsync(trackingUri, ct: ct).ConfigureAwait(false), null, owns: true);

    public TrackingClient Client { get; }

    /// <summary>The registry for <c>models:/</c> URIs: the server's REST registry, or the one given.</summary>
    public IModelRegistryStore? Registry { get; }

    /// <summary>Follows <c>models:/</c> URIs to the artifact location of the version they name (other URIs are returned as they are).</summary>
    public async Task<(string Source, ModelVersion? Version)> ResolveSourceAsync(string uri, CancellationToken ct = default)
    {
        ModelVersion? first = null;
        for (var hop = 0; hop < MaxIndirections; hop++)
        {
            var parsed = ModelUri.Parse(uri);
            ModelVersion? version = parsed switch
            {
                ModelUri.Version v => await Need().GetModelVersionAsync(v.Name, v.Number, ct).ConfigureAwait(false),
                ModelUri.Alias a => await Need().GetModelVersionByAliasAsync(a.Name, a.AliasName, ct).ConfigureAwait(false),
                ModelUri.Stage s => await LatestAsync(s, ct).ConfigureAwait(false),
                _ => null,
            };
            if (version is null)
            {
                return (uri, first);
            }

            first ??= version;
            uri = await Need().GetModelVersionDownloadUriAsync(version.Name, version.Version, ct).ConfigureAwait(false);
        }

        throw MlflowException.InvalidParameter($"Model URI '{uri}' refers to other models:/ URIs more than {MaxIndirections} times.");
    }

    private async Task<ModelVersion> LatestAsync(ModelUri.Stage s, CancellationToken ct)
    {
        var versions = await Need().GetLatestVersionsAsync(s.Name, s.StageName is null ? [] : [s.StageName], ct).ConfigureAwait(false);
        return versions.MaxBy(v => long.Parse(v.Version, System.Globalization.CultureInfo.InvariantCulture))
            ?? throw MlflowException.NotFound(s.StageName is null
                ? $"Registered model '{s.Name}' has no versions."
                : $"No versions of model with name '{s.Name}' and stage '{s.StageName}' found.");
    }

    private IModelRegistryStore Need() => Registry ?? throw new InvalidOperationException(
        $"models:/ URIs need a model registry, but the tracking store '{Client.TrackingUri}' is not a server. " +
        "Connect to a tracking server (http://...) or pass a registry to ModelUriResolver.");

    /// <summary>
    /// Resolves <paramref name="uri"/> to a local folder with the package: local packages in place,
    /// remote ones downloaded into <paramref name="destination"/> (a new temporary folder by default).
    /// </summary>
    public async Task<ResolvedModel> DownloadAsync(string uri, string? destination = null, CancellationToken ct = default)
    {
        var (source, version) = await ResolveSourceAsync(uri, ct).ConfigureAwait(false);
        string local;
        switch (ModelUri.Parse(source))
        {
            case ModelUri.Local l:
                local = LocalFolder(l.Path, uri);
                break;
            case ModelUri.Run r:
                {
                    var run = await Client.Store.GetRunAsync(r.RunId, ct).ConfigureAwait(false);
                    local = await CopyTreeAsync(Client.ArtifactsFor(run.Info.ArtifactUri), r.Path, destination, uri, ct).ConfigureAwait(false);
                    break;
                }

            case ModelUri.Artifacts:
                local = await CopyTreeAsync(Client.ArtifactsFor(source), "", destination, uri, ct).ConfigureAwait(false);
                break;
            default:
                throw MlflowException.InvalidParameter($"'{uri}' resolved to '{source}', which is not a location Cairn can download from.");
        }

        if (!File.Exists(Path.Combine(local, ModelFile.FileName)))
        {
            throw new InvalidModelPackageException($"'{uri}' resolved to '{source}', which holds no {ModelFile.FileName} file: it is not a model package.");
        }

        return new ResolvedModel(uri, local, source, version);
    }

    /// <summary>The package folder a local path names (a path to an <c>MLmodel</c> file means its folder).</summary>
    internal static string LocalFolder(string path, string uri)
    {
        var folder = File.Exists(path) && Path.GetFileName(path) == ModelFile.FileName ? Path.GetDirectoryName(path)! : path;
        return Directory.Exists(folder) ? folder : throw MlflowException.NotFound($"No model package at '{folder}' (from '{uri}').");
    }

    /// <summary>Copies every file under <paramref name="root"/> of a repository into a local folder.</summary>
    private static async Task<string> CopyTreeAsync(IArtifactRepository repo, string root, string? destination, string uri, CancellationToken ct)
    {
        var target = destination ?? Directory.CreateTempSubdirectory("cairn-model-").FullName;
        Directory.CreateDirectory(target);
        var pending = new Stack<string>();
        pending.Push(root);
        var files = 0;
        while (pending.TryPop(out var dir))
        {
            foreach (var entry in await repo.ListAsync(dir, ct).ConfigureAwait(false))
            {
                if (entry.IsDir)
                {
                    pending.Push(entry.Path);
                    continue;
                }

                var relative = root.Length == 0 ? entry.Path : Path.GetRelativePath(root, entry.Path).Replace('\\', '/');
                var local = Path.GetFullPath(Path.Combine(target, ArtifactPaths.Normalize(relative)));
                Directory.CreateDirectory(Path.GetDirectoryName(local)!);
                await using var stream = await repo.OpenReadAsync(entry.Path, ct).ConfigureAwait(false)
                    ?? throw MlflowException.NotFound($"Artifact '{entry.Path}' disappeared while downloading '{uri}'.");
                await using var file = File.Create(local);
                await stream.CopyToAsync(file, ct).ConfigureAwait(false);
                files++;
            }
        }

        return files > 0 ? target : throw MlflowException.NotFound($"No model files at '{uri}'.");
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsRegistry)
        {
            (Registry as IDisposable)?.Dispose();
        }

        if (_owns)
        {
            await Client.DisposeAsync().ConfigureAwait(false);
        }
    }
}
