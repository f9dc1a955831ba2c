using Cairn.Client.Rest;
using Cairn.Core;
using Cairn.Core.Artifacts;

namespace Cairn.Client.Artifacts;

/// <summary>
/// Finds where a run's artifacts go from its <c>artifact_uri</c>, as MLflow's client does:
/// <c>mlflow-artifacts:/...</c> through the tracking server's artifact proxy, <c>file:</c> URIs and
/// plain paths straight into the folder. Other schemes (s3:, gs:...) are not supported yet.
/// </summary>
public static class ArtifactLocations
{
    internal static IArtifactRepository Open(string artifactUri, MlflowHttp? server)
    {
        ArgumentException.ThrowIfNullOrEmpty(artifactUri);
        var colon = artifactUri.IndexOf(':', StringComparison.Ordinal);
        var scheme = colon > 1 ? artifactUri[..colon].ToLowerInvariant() : null;
        switch (scheme)
        {
            case "mlflow-artifacts":
                {
                    var rest = artifactUri[(colon + 1)..];
                    MlflowHttp http;
                    if (rest.StartsWith("//", StringComparison.Ordinal))
                    {
                        // mlflow-artifacts://host:port/path names its server explicitly.
                        var slash = rest.IndexOf('/', 2);
                        var authority = slash < 0 ? rest[2..] : rest[2..slash];
                        rest = slash < 0 ? "" : rest[slash..];
                        var scheme2 = server?.BaseUri.Scheme ?? "http";
                        http = server is not null && server.BaseUri.Authority == authority
                            ? server
                            : new MlflowHttp(new Uri($"{scheme2}://{authority}/"), server?.Options ?? new RestOptions());
                    }
                    else
                    {
                        http = server ?? throw new MlflowException(ErrorCode.InvalidParameterValue,
                            $"Artifacts at '{artifactUri}' live behind a tracking server's artifact proxy, but the client is not talking to a server.");
                    }

                    return new ProxyArtifactRepository(http, rest.Trim('/'));
                }

            case "file":
                return new LocalFolderArtifactRepository(new Uri(artifactUri).LocalPath);
            case null:
                return new LocalFolderArtifactRepository(Path.GetFullPath(artifactUri));
            default:
                throw new MlflowException(ErrorCode.NotImplemented, $"Artifact URIs with the scheme '{scheme}' are not supported by the .NET client yet: {artifactUri}");
        }
    }

    /// <summary>Opens the repository for an artifact URI when no tracking server is involved (file: URIs and paths).</summary>
    public static IArtifactRepository Open(string artifactUri) => Open(artifactUri, null);

    /// <summary>Checks a relative artifact path ('/'-separated, no '..', not absolute) and normalises it.</summary>
    internal static string Relative(string path)
    {
        var normalized = path.Replace('\\', '/').Trim('/');
        foreach (var segment in normalized.Split('/'))
        {
            if (segment is "..")
            {
                throw MlflowException.InvalidParameter($"Invalid artifact path '{path}'.");
            }
        }

        return normalized;
    }

    internal static string Join(string? a, string b) => string.IsNullOrEmpty(a) ? b : string.IsNullOrEmpty(b) ? a : a.TrimEnd('/') + "/" + b.TrimStart('/');
}
