using System.Globalization;
using System.Text.RegularExpressions;

namespace Cairn.Core.Registry;

/// <summary>MLflow's checks on registry input, run before anything is written, with MLflow's messages.</summary>
public static partial class RegistryValidation
{
    public static void ValidateModelName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw MlflowException.InvalidParameter(Validation.MissingParameterMessage("name"));
        }
    }

    /// <summary>A version number as MLflow reads it (Python's <c>int()</c>: surrounding spaces and a sign allowed).</summary>
    public static long ParseVersion(string? version)
    {
        if (version is null)
        {
            throw MlflowException.InvalidParameter(Validation.MissingParameterMessage("version"));
        }

        return long.TryParse(version.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw MlflowException.InvalidParameter($"Model version must be an integer, got '{version}'");
    }

    public static void ValidateRegisteredModelTag(Tag tag) => ValidateTag(tag, "Registered model");

    public static void ValidateModelVersionTag(Tag tag) => ValidateTag(tag, "Model version");

    private static void ValidateTag(Tag tag, string what)
    {
        if (string.IsNullOrEmpty(tag.Key))
        {
            throw MlflowException.InvalidParameter(Validation.MissingParameterMessage("key"));
        }

        Validation.ValidateKey(tag.Key, $"{what} key", "key");
        if (tag.Value.Length > RegistryLimits.MaxTagValueLength)
        {
            throw MlflowException.InvalidParameter(
                $"{what} value '{tag.Value}' had length {tag.Value.Length}, which exceeded length limit of {RegistryLimits.MaxTagValueLength}");
        }
    }

    /// <summary>Alias names: word characters and dashes; <c>latest</c> and <c>v&lt;digits&gt;</c> are reserved for model URIs.</summary>
    public static void ValidateAlias(string? alias)
    {
        if (string.IsNullOrEmpty(alias))
        {
            throw MlflowException.InvalidParameter("Registered model alias name cannot be empty.");
        }

        if (!alias.All(c => char.IsLetterOrDigit(c) || c is '_' or '-'))
        {
            throw MlflowException.InvalidParameter(
                $"Invalid alias name: '{alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).");
        }

        if (alias.Length > RegistryLimits.MaxAliasLength)
        {
            throw MlflowException.InvalidParameter(
                $"Registered model alias name '{alias}' had length {alias.Length}, which exceeded length limit of {RegistryLimits.MaxAliasLength}");
        }

        if (alias.Equals("latest", StringComparison.OrdinalIgnoreCase))
        {
            throw MlflowException.InvalidParameter("'latest' alias name (case insensitive) is reserved.");
        }

        if (VersionAlias().IsMatch(alias))
        {
            throw MlflowException.InvalidParameter($"Version alias name '{alias}' is reserved.");
        }
    }

    [GeneratedRegex(@"^[vV][0-9]+$")]
    private static partial Regex VersionAlias();

    /// <summary>
    /// True when <paramref name="source"/> is a local path: no scheme, or <c>file:</c> (MLflow's
    /// <c>is_local_uri</c>). A <c>file:</c> URI naming a remote host is rejected outright.
    /// </summary>
    public static bool IsLocalSource(string source)
    {
        var scheme = UriScheme.Of(source);
        if (scheme is null)
        {
            return true;
        }

        if (scheme.Equals("file", StringComparison.OrdinalIgnoreCase))
        {
            var host = HostOf(source);
            if (host.Length > 0 && host != "." && !host.StartsWith("localhost", StringComparison.Ordinal) && !host.StartsWith("127.0.0.1", StringComparison.Ordinal))
            {
                throw MlflowException.InvalidParameter($"{source} is not a valid remote uri. For remote access on windows, please consider using a different scheme such as SMB (e.g. smb://<hostname>/<path>).");
            }

            return true;
        }

        return false;
    }

    /// <summary>The local path a local source names (a <c>file:</c> URI's path, percent-decoded).</summary>
    public static string LocalPath(string source)
    {
        if (UriScheme.Of(source) is null)
        {
            return source;
        }

        var rest = source["file:".Length..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            var slash = rest.IndexOf('/', 2);
            rest = slash < 0 ? "" : rest[slash..];
        }

        return Uri.UnescapeDataString(rest);
    }

    /// <summary>
    /// Rejects a remote source whose path, fully percent-decoded, holds relative references
    /// (<c>..</c>, <c>.</c>) or is not absolute: such a source could make the server read outside the
    /// place it names (MLflow's <c>_validate_non_local_source_contains_relative_paths</c>).
    /// </summary>
    public static void ValidateRemoteSource(string source)
    {
        var decoded = source;
        for (var i = 0; i < 16; i++)
        {
            var next = Uri.UnescapeDataString(decoded.Replace('+', ' '));
            if (next == decoded)
            {
                break;
            }

            decoded = next;
        }

        var path = PathOf(decoded).TrimEnd('/');
        path = MultipleSlashes().Replace(path, "/");
        if (path.Contains('\0', StringComparison.Ordinal) || !path.StartsWith('/') || Validation.NormalizePosixPath(path) != path)
        {
            throw MlflowException.InvalidParameter(
                $"Invalid model version source: '{source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.");
        }
    }

    public static MlflowException LocalSourceOutsideRun(string path) => MlflowException.InvalidParameter(
        $"Invalid model version source: '{path}'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.");

    [GeneratedRegex("/+")]
    private static partial Regex MultipleSlashes();

    private static string HostOf(string uri)
    {
        var rest = uri[(uri.IndexOf(':', StringComparison.Ordinal) + 1)..];
        if (!rest.StartsWith("//", StringComparison.Ordinal))
        {
            return "";
        }

        var end = rest.IndexOfAny(['/', '?', '#'], 2);
        var authority = end < 0 ? rest[2..] : rest[2..end];
        var at = authority.LastIndexOf('@');
        var host = at >= 0 ? authority[(at + 1)..] : authority;
        var port = host.LastIndexOf(':');
        return (port >= 0 ? host[..port] : host).ToLowerInvariant();
    }

    /// <summary>The path part of a URI as Python's <c>urlparse</c> splits it (after scheme and authority, before query and fragment).</summary>
    private static string PathOf(string uri)
    {
        var rest = UriScheme.Of(uri) is { } scheme ? uri[(scheme.Length + 1)..] : uri;
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            var slash = rest.IndexOfAny(['/', '?', '#'], 2);
            rest = slash < 0 ? "" : rest[slash..];
        }

        var end = rest.IndexOfAny(['?', '#']);
        return end < 0 ? rest : rest[..end];
    }
}
