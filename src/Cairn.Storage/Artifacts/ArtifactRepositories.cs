using Cairn.Core;
using Cairn.Core.Artifacts;

namespace Cairn.Storage.Artifacts;

/// <summary>
/// Finds the repository behind an artifact URI by its scheme, as MLflow's server does:
/// <c>mlflow-artifacts:/x</c> is folder <c>x</c> of the artifact destination (the proxy's store),
/// <c>file:///abs</c> and plain paths are local folders. Other schemes (S3 next) are added here.
/// </summary>
public sealed class ArtifactRepositories
{
    public const string ProxyScheme = "mlflow-artifacts";

    private readonly string _destination;

    /// <param name="artifactsDestination">Where the proxy keeps artifacts: a folder (relative to the working directory) or a <c>file:</c> URI.</param>
    public ArtifactRepositories(string artifactsDestination)
    {
        _destination = artifactsDestination;
    }

    /// <summary>The proxy's repository: the root that <c>mlflow-artifacts:/</c> URIs and the <c>/mlflow-artifacts/artifacts</c> routes address.</summary>
    public IArtifactRepository Destination => new LocalArtifactRepository(DestinationFolder());

    /// <summary>The repository for a run's <c>artifact_uri</c> or an experiment's <c>artifact_location</c>.</summary>
    public IArtifactRepository ForUri(string artifactUri)
    {
        ArgumentNullException.ThrowIfNull(artifactUri);
        var scheme = UriScheme.Of(artifactUri);
        switch (scheme?.ToLowerInvariant())
        {
            case ProxyScheme:
                {
                    // mlflow-artifacts:/exp/run/artifacts or mlflow-artifacts://host:port/exp/run/artifacts.
                    var relative = ArtifactPaths.Normalize(StripAuthority(artifactUri[(scheme!.Length + 1)..]).TrimStart('/'));
                    var destination = DestinationFolder();
                    return new LocalArtifactRepository(Path.Join(destination, relative), destination);
                }

            case "file":
                return new LocalArtifactRepository(FileUriPath(artifactUri));
            case null:
                return new LocalArtifactRepository(Path.GetFullPath(artifactUri));
            default:
                throw new MlflowException(ErrorCode.NotImplemented, $"Artifact URIs with the scheme '{scheme}' are not supported by this server yet: {artifactUri}");
        }
    }

    private string DestinationFolder() => UriScheme.Of(_destination)?.ToLowerInvariant() switch
    {
        null => Path.GetFullPath(_destination),
        "file" => FileUriPath(_destination),
        var other => throw new MlflowException(ErrorCode.NotImplemented, $"Artifact destinations with the scheme '{other}' are not supported by this server yet: {_destination}"),
    };

    private static string StripAuthority(string rest)
    {
        if (!rest.StartsWith("//", StringComparison.Ordinal))
        {
            return rest;
        }

        var slash = rest.IndexOf('/', 2);
        return slash < 0 ? "" : rest[slash..];
    }

    /// <summary><c>file:///abs/p%20q</c>, <c>file://localhost/abs</c> and <c>file:/abs</c> to a local path.</summary>
    private static string FileUriPath(string uri)
    {
        var path = Uri.UnescapeDataString(StripAuthority(uri["file:".Length..]));
        if (OperatingSystem.IsWindows() && path.Length >= 3 && path[0] == '/' && path[2] == ':')
        {
            path = path[1..];
        }

        return Path.GetFullPath(path.Length == 0 ? "/" : path);
    }
}
