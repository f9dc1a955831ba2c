using System.Globalization;
using System.Text.Json;
using YamlDotNet.RepresentationModel;

namespace Cairn.Client;

/// <summary>
/// Settings read from a configuration file: the tracking URI, the experiment name and free-form
/// parameters (handy to log as a run's params). JSON files use an appsettings-style <c>"Cairn"</c>
/// section (<c>{"Cairn": {"TrackingUri": "...", "Experiment": "...", "Parameters": {...}}}</c>);
/// YAML files use <c>tracking_uri</c>, <c>experiment</c> and <c>parameters</c> at the top level
/// (or under a <c>cairn:</c> key). Keys are matched case-insensitively, with or without underscores.
/// </summary>
public sealed record TrackingConfig(string? TrackingUri, string? Experiment, IReadOnlyDictionary<string, string> Parameters, string? SourcePath)
{
    /// <summary>The files looked for, in order, in the working directory when no file is named.</summary>
    public static readonly string[] DefaultFiles = ["cairn.yaml", "cairn.yml", "cairn.json", "appsettings.json"];

    public static TrackingConfig Empty { get; } = new(null, null, new Dictionary<string, string>(), null);

    /// <summary>
    /// Loads <c>CAIRN_CONFIG</c> if set, else the first of <see cref="DefaultFiles"/> in
    /// <paramref name="directory"/> (default: the working directory) that exists; <see cref="Empty"/> if none.
    /// </summary>
    public static TrackingConfig Discover(string? directory = null)
    {
        if (Environment.GetEnvironmentVariable("CAIRN_CONFIG") is { Length: > 0 } named)
        {
            return Load(named);
        }

        directory ??= Directory.GetCurrentDirectory();
        foreach (var name in DefaultFiles)
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                var config = Load(path);
                if (config.TrackingUri is not null || config.Experiment is not null || config.Parameters.Count > 0 || !name.StartsWith("appsettings", StringComparison.Ordinal))
                {
                    return config;
                }
            }
        }

        return Empty;
    }

    /// <summary>Loads a JSON (<c>.json</c>) or YAML (<c>.yaml</c>/<c>.yml</c>) file.</summary>
    public static TrackingConfig Load(string path)
    {
        var text = File.ReadAllText(path);
        var ext = Path.GetExtension(path).ToLowerInvariant();
        var map = ext is ".yaml" or ".yml" ? FromYaml(text) : FromJson(text);
        var section = Find(map, "cairn") as Dictionary<string, object?> ?? map;
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Find(section, "parameters") is Dictionary<string, object?> p)
        {
            Flatten(p, "", parameters);
        }

        return new TrackingConfig(
            Find(section, "trackinguri") as string,
            Find(section, "experiment") as string ?? Find(section, "experimentname") as string,
            parameters,
            Path.GetFullPath(path));
    }

    private static object? Find(Dictionary<string, object?> map, string normalizedKey)
    {
        foreach (var (key, value) in map)
        {
            if (string.Equals(key.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal), normalizedKey, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>Nested sections become dotted keys (<c>optimizer.lr</c>), as MLflow flattens dicts of params.</summary>
    private static void Flatten(Dictionary<string, object?> map, string prefix, Dictionary<string, string> into)
    {
        foreach (var (key, value) in map)
        {
            var name = prefix.Length == 0 ? key : prefix + "." + key;
            switch (value)
            {
                case Dictionary<string, object?> nested:
                    Flatten(nested, name, into);
                    break;
                case List<object?> list:
                    into[name] = "[" + string.Join(", ", list) + "]";
                    break;
                default:
                    into[name] = value?.ToString() ?? "";
                    break;
            }
        }
    }

    private static Dictionary<string, object?> FromJson(string text)
    {
        using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return doc.RootElement.ValueKind == JsonValueKind.Object ? (Dictionary<string, object?>)Convert(doc.RootElement)! : [];

        static object? Convert(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => Convert(p.Value)),
            JsonValueKind.Array => e.EnumerateArray().Select(Convert).ToList(),
            JsonValueKind.String => e.GetString(),
            JsonValueKind.Number => e.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
    }

    private static Dictionary<string, object?> FromYaml(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            return [];
        }

        return (Dictionary<string, object?>)Convert(root)!;

        static object? Convert(YamlNode node) => node switch
        {
            YamlMappingNode m => m.Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value ?? "", c => Convert(c.Value)),
            YamlSequenceNode s => s.Children.Select(Convert).ToList(),
            YamlScalarNode v => v.Value is null or "~" or "null" ? null : v.Value,
            _ => null,
        };
    }

    internal static string Invariant(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
