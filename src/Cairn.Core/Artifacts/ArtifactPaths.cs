namespace Cairn.Core.Artifacts;

/// <summary>
/// The one check every artifact path from a client goes through before it touches a repository:
/// a path must stay inside the artifact root however it is spelled (raw, percent-encoded once or
/// several times, with Windows separators). Failures are MLflow's 400 <c>INVALID_PARAMETER_VALUE</c>
/// "Invalid path".
/// </summary>
public static class ArtifactPaths
{
    /// <summary>How many rounds of percent-decoding are checked; a client that encodes more often than this gets a literal name.</summary>
    private const int DecodeRounds = 3;

    public static MlflowException InvalidPath() => MlflowException.InvalidParameter("Invalid path");

    /// <summary>
    /// Checks a relative artifact path and returns it in canonical form: '/'-separated, no empty or
    /// <c>.</c> segments, no trailing slash; "" is the root. Throws "Invalid path" for <c>..</c>
    /// segments, absolute paths, URIs (<c>file://</c> or any other scheme), drive letters, <c>#</c>,
    /// NUL, and for anything that becomes one of these after percent-decoding.
    /// </summary>
    public static string Normalize(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var current = path;
        for (var round = 0; ; round++)
        {
            Check(current);
            if (round == DecodeRounds || !current.Contains('%', StringComparison.Ordinal))
            {
                break;
            }

            var decoded = Uri.UnescapeDataString(current);
            if (decoded == current)
            {
                break;
            }

            current = decoded;
        }

        // The name as the client sent it is kept (a literal "%41" stays "%41"); decoding only served the check.
        return Canonical(path);
    }

    /// <summary>True when <paramref name="path"/> passes <see cref="Normalize"/>.</summary>
    public static bool IsSafe(string path)
    {
        try
        {
            Normalize(path);
            return true;
        }
        catch (MlflowException)
        {
            return false;
        }
    }

    /// <summary>Joins canonical relative paths, skipping empty parts.</summary>
    public static string Combine(string first, string second) =>
        first.Length == 0 ? second : second.Length == 0 ? first : first + "/" + second;

    /// <summary>The last segment of a canonical path.</summary>
    public static string FileName(string path) => path[(path.LastIndexOf('/') + 1)..];

    private static void Check(string path)
    {
        if (path.Contains('\0', StringComparison.Ordinal) || path.Contains('#', StringComparison.Ordinal))
        {
            throw InvalidPath();
        }

        if (path.Length > 0 && (path[0] == '/' || path[0] == '\\'))
        {
            throw InvalidPath();
        }

        if (HasSchemeOrDrive(path))
        {
            throw InvalidPath();
        }

        // A backslash is an ordinary name character on Linux, but the same name would be a
        // traversal on Windows or to a consumer that treats it as a separator, so `..` between
        // backslashes is refused too.
        foreach (var segment in path.Split('/', '\\'))
        {
            if (segment == "..")
            {
                throw InvalidPath();
            }
        }
    }

    /// <summary>
    /// <c>file:/x</c>, <c>s3://b</c>, <c>C:\x</c>, <c>C:</c>: a scheme followed by a path, or a drive letter.
    /// A colon elsewhere (<c>model:v1.txt</c>) is an ordinary name character, as in MLflow.
    /// </summary>
    private static bool HasSchemeOrDrive(string path)
    {
        var colon = path.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !char.IsAsciiLetter(path[0]))
        {
            return false;
        }

        for (var i = 1; i < colon; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(path[i]) || path[i] is '+' or '-' or '.'))
            {
                return false;
            }
        }

        var rest = path.AsSpan(colon + 1);
        return colon == 1 || rest.IsEmpty || rest[0] is '/' or '\\' || path[..colon].Equals("file", StringComparison.OrdinalIgnoreCase);
    }

    private static string Canonical(string path)
    {
        if (!path.Contains("//", StringComparison.Ordinal) && !path.EndsWith('/') && !path.StartsWith("./", StringComparison.Ordinal)
            && !path.Contains("/./", StringComparison.Ordinal) && !path.EndsWith("/.", StringComparison.Ordinal) && path != ".")
        {
            return path;
        }

        return string.Join('/', path.Split('/').Where(s => s.Length > 0 && s != "."));
    }
}
