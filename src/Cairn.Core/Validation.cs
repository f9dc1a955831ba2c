using System.Text;

namespace Cairn.Core;

/// <summary>MLflow's limits on names, keys, values and batch sizes, checked before anything is written.</summary>
public static class Validation
{
    public const int MaxKeyLength = 250;
    public const int MaxParamValueLength = 6000;
    public const int MaxRunTagValueLength = 8000;
    public const int MaxExperimentTagValueLength = 5000;
    public const int MaxExperimentNameLength = 500;
    public const int MaxDatasetDigestLength = 36;
    public const int MaxDatasetNameLength = 500;
    public const int MaxBatchMetrics = 1000;
    public const int MaxBatchParams = 100;
    public const int MaxBatchTags = 100;
    public const int MaxBatchEntities = 1000;
    public const int MaxSearchResults = 50000;

    /// <summary>Largest finite double; MLflow's SQL store stores ±infinity as ±this value.</summary>
    public const double ClampedInfinity = double.MaxValue;

    public static string MissingParameterMessage(string name) =>
        $"Missing value for required parameter '{name}'. See the API docs for more information about request parameters.";

    /// <summary>Checks a metric, param or tag key: allowed characters, length, and that it names no other path.</summary>
    public static void ValidateKey(string key, string what, string parameterName)
    {
        if (key.Length > MaxKeyLength)
        {
            throw MlflowException.InvalidParameter(
                $"{what} '{key}' had length {key.Length}, which exceeded length limit of {MaxKeyLength}");
        }

        foreach (var c in key)
        {
            if (!(char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or ' ' or ':' or '/'))
            {
                throw MlflowException.InvalidParameter(
                    $"Invalid value \"{key}\" for parameter '{parameterName}' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).");
            }
        }

        // Without a slash, only "." and ".." can normalise to something else.
        if (!key.Contains('/', StringComparison.Ordinal) && key is not ("." or ".."))
        {
            return;
        }

        var normalized = NormalizePosixPath(key);
        if (key.Length > 0 && (normalized != key || normalized == "." || normalized.StartsWith("..", StringComparison.Ordinal) || normalized.StartsWith('/')))
        {
            throw MlflowException.InvalidParameter(
                $"Invalid value \"{key}\" for parameter '{parameterName}' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '{normalized}'");
        }
    }

    public static void ValidateParamValue(Param param)
    {
        if (param.Value.Length > MaxParamValueLength)
        {
            throw MlflowException.InvalidParameter(
                $"Param value for key '{param.Key}' had length {param.Value.Length}, which exceeded length limit of {MaxParamValueLength}");
        }
    }

    public static void ValidateRunTagValue(Tag tag)
    {
        if (tag.Value.Length > MaxRunTagValueLength)
        {
            throw MlflowException.InvalidParameter(
                $"Tag value for key '{tag.Key}' had length {tag.Value.Length}, which exceeded length limit of {MaxRunTagValueLength}");
        }
    }

    public static void ValidateExperimentTag(Tag tag)
    {
        ValidateKey(tag.Key, "Tag key", "key");
        if (tag.Value.Length > MaxExperimentTagValueLength)
        {
            throw MlflowException.InvalidParameter(
                $"Tag value '{Shorten(tag.Value)}' had length {tag.Value.Length}, which exceeded length limit of {MaxExperimentTagValueLength}");
        }
    }

    public static void ValidateExperimentName(string? name, string parameterName = "name")
    {
        if (string.IsNullOrEmpty(name))
        {
            throw MlflowException.InvalidParameter(MissingParameterMessage(parameterName));
        }

        if (name.Length > MaxExperimentNameLength)
        {
            throw MlflowException.InvalidParameter($"'{parameterName}' exceeds the maximum length of {MaxExperimentNameLength} characters");
        }
    }

    /// <summary>Checks a whole log-batch request; nothing is written unless all of it is valid.</summary>
    public static void ValidateBatch(IReadOnlyList<Metric> metrics, IReadOnlyList<Param> @params, IReadOnlyList<Tag> tags)
    {
        if (metrics.Count > MaxBatchMetrics)
        {
            throw MlflowException.InvalidParameter(
                $"A batch logging request can contain at most {MaxBatchMetrics} metrics. Got {metrics.Count} metrics. Please split up metrics across multiple requests and try again.");
        }

        if (@params.Count > MaxBatchParams)
        {
            throw MlflowException.InvalidParameter(
                $"A batch logging request can contain at most {MaxBatchParams} params. Got {@params.Count} params. Please split up params across multiple requests and try again.");
        }

        if (tags.Count > MaxBatchTags)
        {
            throw MlflowException.InvalidParameter(
                $"A batch logging request can contain at most {MaxBatchTags} tags. Got {tags.Count} tags. Please split up tags across multiple requests and try again.");
        }

        var total = metrics.Count + @params.Count + tags.Count;
        if (total > MaxBatchEntities)
        {
            throw MlflowException.InvalidParameter(
                $"A batch logging request can contain at most {MaxBatchEntities} metrics, params, and tags. Got {total} metrics, params, and tags. Please split up metrics, params, and tags across multiple requests and try again.");
        }

        // A batch usually repeats a few keys many times (one metric over many steps): check each once.
        var checkedKeys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < metrics.Count; i++)
        {
            if (checkedKeys.Add(metrics[i].Key))
            {
                ValidateKey(metrics[i].Key, "Metric name", $"metrics[{i}].name");
            }
        }

        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var duplicates = new List<string>();
        foreach (var p in @params)
        {
            ValidateKey(p.Key, "Param key", "key");
            ValidateParamValue(p);
            if (!seen.TryAdd(p.Key, p.Value) && !duplicates.Contains(p.Key))
            {
                duplicates.Add(p.Key);
            }
        }

        if (duplicates.Count > 0)
        {
            throw MlflowException.InvalidParameter(
                $"Duplicate parameter keys have been submitted: [{string.Join(", ", duplicates.Select(d => $"'{d}'"))}]. Please ensure the request contains only one param value per param key.");
        }

        foreach (var t in tags)
        {
            ValidateKey(t.Key, "Tag key", "key");
            ValidateRunTagValue(t);
        }
    }

    public static void ValidateDataset(Dataset dataset)
    {
        if (dataset.Digest.Length > MaxDatasetDigestLength)
        {
            throw MlflowException.InvalidParameter(
                $"Dataset digest '{dataset.Digest}' exceeds the maximum length of {MaxDatasetDigestLength} characters");
        }

        if (dataset.Name.Length > MaxDatasetNameLength)
        {
            throw MlflowException.InvalidParameter(
                $"Dataset name '{Shorten(dataset.Name)}' exceeds the maximum length of {MaxDatasetNameLength} characters");
        }
    }

    /// <summary>POSIX normpath: collapses "." and "x/.." segments and repeated slashes.</summary>
    public static string NormalizePosixPath(string path)
    {
        if (path.Length == 0)
        {
            return ".";
        }

        var absolute = path.StartsWith('/');
        var parts = new List<string>();
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0 || segment == ".")
            {
                continue;
            }

            if (segment == ".." && parts.Count > 0 && parts[^1] != "..")
            {
                parts.RemoveAt(parts.Count - 1);
            }
            else if (segment == ".." && absolute)
            {
                continue;
            }
            else
            {
                parts.Add(segment);
            }
        }

        var sb = new StringBuilder();
        if (absolute)
        {
            sb.Append('/');
        }

        sb.Append(string.Join('/', parts));
        return sb.Length == 0 ? "." : sb.ToString();
    }

    private static string Shorten(string value) => value.Length <= 100 ? value : value[..100] + "...";
}
