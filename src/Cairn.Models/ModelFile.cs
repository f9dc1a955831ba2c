using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Cairn.Models;

/// <summary>A model package or its <c>MLmodel</c> file is missing, malformed or unusable; the message says what and where.</summary>
public sealed class InvalidModelPackageException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Where a package keeps its input example (MLflow's <c>saved_input_example_info</c>).</summary>
public sealed record InputExampleInfo(
    string ArtifactPath = InputExample.FileName,
    string Type = "dataframe",
    string? PandasOrient = "split",
    string? ServingInputPath = InputExample.ServingFileName);

/// <summary>
/// The <c>MLmodel</c> file at the root of a model package, as MLflow lays it out: flavors (how each
/// library loads the model), the run that logged it, a uuid, the creation time, the signature and
/// where the input example is. Keys this class does not know are kept in <see cref="Extra"/> so a
/// file written by MLflow reads and writes back unchanged in content.
/// </summary>
public sealed record ModelFile
{
    public const string FileName = "MLmodel";

    /// <summary>MLflow's time format for <c>utc_time_created</c>.</summary>
    public const string TimeFormat = "yyyy-MM-dd HH:mm:ss.ffffff";

    public string? ArtifactPath { get; init; }

    /// <summary>Flavor name → its settings (strings, numbers, nested mappings and lists as read from YAML).</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> Flavors { get; init; }

    public string? RunId { get; init; }

    public string ModelUuid { get; init; } = Guid.NewGuid().ToString("N");

    public string UtcTimeCreated { get; init; } = DateTime.UtcNow.ToString(TimeFormat, CultureInfo.InvariantCulture);

    /// <summary>The Cairn version that wrote the package (MLflow writes <c>mlflow_version</c>).</summary>
    public string? CairnVersion { get; init; } = CurrentCairnVersion;

    public ModelSignature? Signature { get; init; }

    public InputExampleInfo? SavedInputExampleInfo { get; init; }

    public long? ModelSizeBytes { get; init; }

    /// <summary>Top-level keys not modelled above (<c>mlflow_version</c>, <c>metadata</c>, ...), kept as read.</summary>
    public IReadOnlyDictionary<string, object?> Extra { get; init; } = new Dictionary<string, object?>();

    public static string CurrentCairnVersion { get; } =
        typeof(ModelFile).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private static readonly string[] Known = ["artifact_path", "flavors", "run_id", "model_uuid", "utc_time_created", "cairn_version", "signature", "saved_input_example_info", "model_size_bytes"];

    /// <summary>Reads <c>MLmodel</c> from a package folder (or the file itself).</summary>
    public static ModelFile Read(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, FileName) : path;
        if (!File.Exists(file))
        {
            throw new InvalidModelPackageException($"No {FileName} file at '{file}': a model package is a folder with an {FileName} file at its root.");
        }

        return Parse(File.ReadAllText(file), file);
    }

    /// <summary>Parses the text of an <c>MLmodel</c> file; <paramref name="source"/> names it in error messages.</summary>
    public static ModelFile Parse(string yaml, string source = FileName)
    {
        object? root;
        try
        {
            root = new DeserializerBuilder().Build().Deserialize<object>(yaml);
        }
        catch (YamlException e)
        {
            throw new InvalidModelPackageException($"{source} is not valid YAML (line {e.Start.Line}, column {e.Start.Column}): {e.InnerException?.Message ?? e.Message}", e);
        }

        if (root is not IDictionary<object, object?> map)
        {
            throw new InvalidModelPackageException($"{source} must be a YAML mapping with at least a 'flavors' key.");
        }

        var top = map.ToDictionary(kv => kv.Key?.ToString() ?? "", kv => Plain(kv.Value), StringComparer.Ordinal);
        if (!top.TryGetValue("flavors", out var flavorsNode) || flavorsNode is not IReadOnlyDictionary<string, object?> flavorsMap || flavorsMap.Count == 0)
        {
            throw new InvalidModelPackageException($"{source} has no 'flavors' mapping: it must name at least one flavor (such as 'mlnet') that says how to load the model.");
        }

        var flavors = new SortedDictionary<string, IReadOnlyDictionary<string, object?>>(StringComparer.Ordinal);
        foreach (var (name, config) in flavorsMap)
        {
            flavors[name] = config switch
            {
                IReadOnlyDictionary<string, object?> d => d,
                null => new Dictionary<string, object?>(),
                _ => throw new InvalidModelPackageException($"{source}: flavor '{name}' must be a mapping of settings, not '{config}'."),
            };
        }

        ModelSignature? signature = null;
        if (top.TryGetValue("signature", out var sigNode) && sigNode is not null)
        {
            if (sigNode is not IReadOnlyDictionary<string, object?> sig)
            {
                throw new InvalidModelPackageException($"{source}: 'signature' must be a mapping with 'inputs' and 'outputs'.");
            }

            var inputs = Text(sig, "inputs", source + ": signature.inputs") is { } i ? ModelSignature.ParseColumns(i, source + ": signature.inputs") : [];
            var outputs = Text(sig, "outputs", source + ": signature.outputs") is { } o ? ModelSignature.ParseColumns(o, source + ": signature.outputs") : null;
            var @params = Text(sig, "params", source + ": signature.params") is { } p ? ModelSignature.ParseParams(p, source + ": signature.params") : null;
            signature = new ModelSignature(inputs, outputs, @params);
        }

        InputExampleInfo? example = null;
        if (top.TryGetValue("saved_input_example_info", out var exNode) && exNode is not null)
        {
            if (exNode is not IReadOnlyDictionary<string, object?> ex || Text(ex, "artifact_path", source) is not { } exPath)
            {
                throw new InvalidModelPackageException($"{source}: 'saved_input_example_info' must be a mapping with an 'artifact_path'.");
            }

            example = new InputExampleInfo(exPath, Text(ex, "type", source) ?? "dataframe", Text(ex, "pandas_orient", source), Text(ex, "serving_input_path", source));
        }

        long? size = null;
        if (top.TryGetValue("model_size_bytes", out var sizeNode) && sizeNode is not null)
        {
            size = long.TryParse(sizeNode.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s
                : throw new InvalidModelPackageException($"{source}: 'model_size_bytes' must be an integer, not '{sizeNode}'.");
        }

        return new ModelFile
        {
            ArtifactPath = Text(top, "artifact_path", source),
            Flavors = flavors,
            RunId = Text(top, "run_id", source),
            ModelUuid = Text(top, "model_uuid", source) ?? "",
            UtcTimeCreated = Text(top, "utc_time_created", source) ?? "",
            CairnVersion = Text(top, "cairn_version", source),
            Signature = signature,
            SavedInputExampleInfo = example,
            ModelSizeBytes = size,
            Extra = top.Where(kv => !Known.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
        };
    }

    /// <summary>The flavor's settings, or a clear error naming the flavors the package has.</summary>
    public IReadOnlyDictionary<string, object?> Flavor(string name) =>
        Flavors.TryGetValue(name, out var config) ? config
            : throw new InvalidModelPackageException($"The model has no '{name}' flavor; it has: {string.Join(", ", Flavors.Keys)}.");

    /// <summary>The <c>MLmodel</c> text: keys sorted as MLflow writes them, the signature's column lists as JSON strings.</summary>
    public string ToYaml()
    {
        var doc = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in Extra)
        {
            doc[k] = v;
        }

        if (ArtifactPath is not null)
        {
            doc["artifact_path"] = ArtifactPath;
        }

        doc["flavors"] = Flavors.ToDictionary(f => f.Key, f => (object?)f.Value, StringComparer.Ordinal);
        if (RunId is not null)
        {
            doc["run_id"] = RunId;
        }

        doc["model_uuid"] = ModelUuid;
        doc["utc_time_created"] = UtcTimeCreated;
        if (CairnVersion is not null)
        {
            doc["cairn_version"] = CairnVersion;
        }

        if (ModelSizeBytes is { } size)
        {
            doc["model_size_bytes"] = size;
        }

        if (Signature is { } sig)
        {
            var s = new Dictionary<string, object?> { ["inputs"] = ModelSignature.ColumnsJson(sig.Inputs) };
            if (sig.Outputs is { } outputs)
            {
                s["outputs"] = ModelSignature.ColumnsJson(outputs);
            }

            s["params"] = sig.Params is { } p ? ModelSignature.ParamsJson(p) : null;
            doc["signature"] = s;
        }

        if (SavedInputExampleInfo is { } ex)
        {
            var e = new Dictionary<string, object?> { ["artifact_path"] = ex.ArtifactPath, ["type"] = ex.Type };
            if (ex.PandasOrient is not null)
            {
                e["pandas_orient"] = ex.PandasOrient;
            }

            if (ex.ServingInputPath is not null)
            {
                e["serving_input_path"] = ex.ServingInputPath;
            }

            doc["saved_input_example_info"] = e;
        }

        var sb = new StringBuilder();
        YamlText.WriteMapping(sb, doc, 0);
        return sb.ToString();
    }

    /// <summary>Writes <c>MLmodel</c> into <paramref name="packageDir"/>.</summary>
    public void Write(string packageDir) => File.WriteAllText(Path.Combine(packageDir, FileName), ToYaml());

    private static string? Text(IReadOnlyDictionary<string, object?> map, string key, string where) =>
        !map.TryGetValue(key, out var v) || v is null ? null
        : v is string s ? s
        : throw new InvalidModelPackageException($"{where}: '{key}' must be a single value, not a {(v is IReadOnlyDictionary<string, object?> ? "mapping" : "list")}.");

    /// <summary>YamlDotNet's untyped graph (object keys) → string-keyed dictionaries and lists; scalars stay strings.</summary>
    private static object? Plain(object? node) => node switch
    {
        IDictionary<object, object?> d => (IReadOnlyDictionary<string, object?>)d.ToDictionary(kv => kv.Key?.ToString() ?? "", kv => Plain(kv.Value), StringComparer.Ordinal),
        IList<object?> l => l.Select(Plain).ToList(),
        _ => node,
    };
}

/// <summary>A small YAML writer for MLmodel-shaped documents: quotes any string a YAML reader could take for something else.</summary>
internal static partial class YamlText
{
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_.\-/]*$")]
    private static partial Regex PlainSafe();

    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase) { "true", "false", "yes", "no", "on", "off", "null", "y", "n", "nan", "inf" };

    /// <summary>Keys are written sorted at every level, as MLflow's YAML dump does.</summary>
    public static void WriteMapping(StringBuilder sb, IEnumerable<KeyValuePair<string, object?>> map, int indent)
    {
        foreach (var (key, value) in map.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sb.Append(' ', indent).Append(Scalar(key)).Append(':');
            WriteValue(sb, value, indent);
        }
    }

    private static void WriteValue(StringBuilder sb, object? value, int indent)
    {
        switch (value)
        {
            case IEnumerable<KeyValuePair<string, object?>> nested:
                var items = nested.ToList();
                if (items.Count == 0)
                {
                    sb.AppendLine(" {}");
                }
                else
                {
                    sb.AppendLine();
                    WriteMapping(sb, items, indent + 2);
                }

                break;
            case IEnumerable<object?> list when value is not string:
                var elements = list.ToList();
                if (elements.Count == 0)
                {
                    sb.AppendLine(" []");
                    break;
                }

                sb.AppendLine();
                foreach (var e in elements)
                {
                    sb.Append(' ', indent).Append('-');
                    WriteValue(sb, e, indent + 2);
                }

                break;
            default:
                sb.Append(' ').AppendLine(Scalar(value));
                break;
        }
    }

    public static string Scalar(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        long or int or short or byte or uint or ulong => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        double or float or decimal => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        string s when PlainSafe().IsMatch(s) && !Reserved.Contains(s) => s,
        _ => "'" + Convert.ToString(value, CultureInfo.InvariantCulture)!.Replace("'", "''", StringComparison.Ordinal) + "'",
    };
}
